// No default export: DS1003 points at the file's first line.
export const pipeline = { id: "no_export" };
