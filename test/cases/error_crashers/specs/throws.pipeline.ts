import { definePipeline } from "dagspec";

// A spec that throws while it is being run: a diagnostic at the throwing line, not a stack trace.
const columns = JSON.parse("{ not json");

export default definePipeline({ id: "throws", columns } as never);
