/** Kept in step with package.json by test/unit/version.test.ts. */
export const VERSION = '0.1.0';
/** The InstrumentationScope name of the log records firetap builds from CloudWatch Logs. */
export const SCOPE_NAME = 'firetap';
