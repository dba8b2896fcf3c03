/**
 * Bounds of the runtime drivers (listed in `LIMIT_MODULES`, src/config/limits.ts): how long their management
 * commands may take, how long a runtime gets after the deadline, and how much of what a runtime says is kept. A
 * sample can flood its runtime's stderr and hang its management calls: these bounds keep both cheap. Internal to
 * runtime/, like common.ts: nothing outside it imports this (the runtime seam, README "Architecture").
 */

// --- Management commands (common.ts, <runtime>/runtime.ts) ---

/** A runtime's management commands (state, delete, kill): local, but a loaded sandbox may answer slowly. */
export const MANAGEMENT_TIMEOUT_MS = 10_000;
/** Commands that must answer at once: `--version`, the kill at the deadline, a task count during the run. */
export const QUICK_MANAGEMENT_TIMEOUT_MS = 5000;
/** Bytes kept of a management command's stdout and of its stderr: their answers are short. */
export const MAX_MANAGEMENT_OUTPUT_BYTES = 64 * 1024;
/** After the deadline kill, how long the runtime gets to report the exit before its processes are SIGKILLed. */
export const KILL_GRACE_MS = 3_000;
/** Retries of removing a runtime's state dir (its files may be busy for a moment after the sandbox stops). */
export const STATE_DIR_REMOVE_RETRIES = 3;

// --- What a runtime says (runtime.ts, gvisor/, runc/) ---

/** Bytes kept of a runtime's stderr while it runs (the last ones): under runc the sample can flood it. */
export const RUNTIME_STDERR_TAIL_BYTES = 16 * 1024;
/** Characters of the runtime's complaints the run's result keeps (`runtimeLog`, the last ones). */
export const MAX_RUNTIME_LOG_CHARS = 4000;
/** Lines read from the end of runc's JSON log for its errors. */
export const MAX_RUNC_LOG_LINES = 200;
/** Bytes read from the start of gVisor's debug log to find when the sample started: its first exec comes early. */
export const MAX_GVISOR_BOOT_LOG_SCAN_BYTES = 1024 * 1024;
