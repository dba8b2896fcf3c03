/**
 * Bounds of the static analysis (listed in `LIMIT_MODULES`, src/config/limits.ts): what the catalogers, the image
 * checks, the executable readers and the threat detectors read, keep and spend on one file. Every file of an image is
 * hostile: each bound turns an absurd size, count or depth into a notice, a cut or a refusal, never a hang. The
 * per-file and nested-archive sizes the walker enforces are `Limits` in src/config/limits.ts.
 */

// --- Layer analysis (runner.ts) ---

/**
 * Files, and bytes of their content, analysed at once per layer: enough to keep a thread pool busy, bounded memory.
 * A file over the byte bound still goes, alone; YARA holds a copy of each file it scans, so what is in flight costs
 * about twice this.
 */
export const MAX_IN_FLIGHT_FILES = 16;
export const MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

// --- Distribution detection (os/) ---

/** Release files are tiny; a huge one is not a release file and is not read. */
export const MAX_RELEASE_FILE_BYTES = 256 * 1024;
/** Release files are a few hundred bytes; only this much of one is scanned line by line. */
export const MAX_RELEASE_FILE_CHARS = 64 * 1024;
/** Longest os-release value kept; longer ones are cut. */
export const MAX_RELEASE_VALUE_CHARS = 1024;
/** Longest version line of `/etc/alpine-release` and `/etc/debian_version`, and longest Red Hat-style release line. */
export const MAX_ALPINE_RELEASE_CHARS = 64;
export const MAX_DEBIAN_VERSION_CHARS = 64;
export const MAX_REDHAT_RELEASE_CHARS = 256;

// --- Image config checks (config/) ---

/** Ranges wider than this in one `ExposedPorts` key are not expanded (a config can claim `1-65535/tcp`). */
export const MAX_EXPANDED_PORT_RANGE = 1024;
/** Longest ENV value or history command examined for secrets; a longer one is cut here. */
export const MAX_CONFIG_TEXT_CHARS = 64 * 1024;
/** Longest build command examined for a download piped to a shell; history lines are short, a hostile one is cut. */
export const MAX_BUILD_COMMAND_CHARS = 64 * 1024;

// --- Executables (binary/): no real binary comes near these; they stop a forged header from looping or allocating ---

/** Larger than any plausible single program; the walker's own file-size limit applies below this too. */
export const MAX_EXECUTABLE_BYTES = 2 * 1024 * 1024 * 1024;
/** ELF section headers and program headers declared. */
export const MAX_ELF_SECTIONS = 1 << 16;
export const MAX_ELF_PROGRAM_HEADERS = 1 << 16;
/** Longest ELF section name and `PT_INTERP` path read. */
export const MAX_ELF_SECTION_NAME_BYTES = 4096;
export const MAX_ELF_INTERPRETER_BYTES = 4096;
/** Mach-O load commands, and sections in one segment. */
export const MAX_MACHO_LOAD_COMMANDS = 1 << 16;
export const MAX_MACHO_SECTIONS_PER_SEGMENT = 1 << 12;
/** Windows' loader caps sections at 96; real files stay far below. */
export const MAX_PE_SECTIONS = 96;
/** Longest PE section name read from the string table, and longest imported DLL or function name. */
export const MAX_PE_LONG_SECTION_NAME_BYTES = 256;
export const MAX_PE_IMPORT_NAME_BYTES = 256;

/** How much of a PE's import tables `readPeImports` reads. */
export interface PeImportLimits {
  maxModules: number;
  maxFunctions: number;
}

/** Imported DLLs and functions read from one PE; what was read up to there is kept (`truncated`). */
export const DEFAULT_PE_IMPORT_LIMITS: Readonly<PeImportLimits> = Object.freeze({ maxModules: 256, maxFunctions: 8192 });

// --- Package catalogers (packages/): larger than any real database or lock file; a hostile one stops here ---

/** A package name or version longer than this is corruption, not a package (gems, NuGet, Python distributions). */
export const MAX_PACKAGE_NAME_CHARS = 256;
export const MAX_PACKAGE_VERSION_CHARS = 128;

/** More packages than a whole Debian release has. */
export const MAX_DPKG_PACKAGES = 100_000;
/** More packages than all of Alpine's repositories hold; and the longest licence field kept. */
export const MAX_APK_PACKAGES = 100_000;
export const MAX_APK_LICENSE_CHARS = 1024;
/** No real system has this many packages (a whole distribution has fewer). */
export const MAX_RPM_PACKAGES = 100_000;
/** More rows than any real system has in its rpmdb.sqlite: a hostile file cannot make the loop run longer. */
export const MAX_RPM_SQLITE_ROWS = 1_000_000;
/** rpm refuses headers over 256 MiB of data; no larger blob is read from rpmdb.sqlite. */
export const MAX_RPM_SQLITE_BLOB_BYTES = 256 * 1024 * 1024;
/** rpm's own limits (`hdrchkTags`, `hdrchkData`): at most 65535 tags and under 256 MiB of data in one header. */
export const MAX_RPM_HEADER_TAGS = 0xffff;
export const MAX_RPM_HEADER_DATA_BYTES = 256 * 1024 * 1024;
/** Longest string value read from an rpm header; rpm puts no limit on LICENSE, but no real one is near this. */
export const MAX_RPM_HEADER_STRING_BYTES = 64 * 1024;

/** Go build information: toolchain strings are ~30 bytes; the largest real module lists are a few hundred KiB. */
export const MAX_GO_VERSION_BYTES = 1024;
export const MAX_GO_MODINFO_BYTES = 16 * 1024 * 1024;
/** Build-information magic candidates a whole-file scan examines before giving up. */
export const MAX_GO_BUILDINFO_CANDIDATES = 64;

/** Rust `cargo auditable` data: real dependency lists are a few KiB compressed and well under 1 MiB expanded. */
export const MAX_RUST_AUDIT_JSON_BYTES = 8 * 1024 * 1024;
export const MAX_RUST_AUDIT_PACKAGES = 100_000;

/** Java metadata files (MANIFEST.MF, pom.properties) are a few KiB; anything much larger is not what it claims. */
export const MAX_JAVA_METADATA_BYTES = 1024 * 1024;
/** A Spring Boot fat jar holds a few hundred jars; this bounds CPU on archives built to be expensive. */
export const MAX_JAVA_NESTED_ARCHIVES = 10_000;

/** Largest .NET dependency file read (real ones are far smaller), and most library entries read from one. */
export const MAX_DOTNET_FILE_BYTES = 32 * 1024 * 1024;
export const MAX_DOTNET_ENTRIES = 200_000;

/** Largest Ruby file of each kind that is read; bigger ones get a notice. */
export const MAX_GEM_FILE_BYTES: Readonly<Record<'gemspec' | 'Gemfile.lock', number>> = Object.freeze({
  gemspec: 4 * 1024 * 1024,
  'Gemfile.lock': 32 * 1024 * 1024,
});
/** Most licences kept for one gem, and most string literals taken from one gemspec expression. */
export const MAX_GEM_LICENSES = 32;
export const MAX_GEM_EXPRESSION_LITERALS = 256;

/**
 * Largest Python file of each kind that is parsed. Core metadata is only read up to its header block, so a long
 * description is harmless; lock files beyond these sizes are not real and get a notice.
 */
export const MAX_PYTHON_FILE_BYTES: Readonly<Record<'metadata' | 'requirements' | 'Pipfile.lock' | 'poetry.lock' | 'uv.lock' | 'pdm.lock', number>> = Object.freeze({
  metadata: 16 * 1024 * 1024,
  requirements: 8 * 1024 * 1024,
  'Pipfile.lock': 48 * 1024 * 1024,
  'poetry.lock': 32 * 1024 * 1024,
  'uv.lock': 32 * 1024 * 1024,
  'pdm.lock': 32 * 1024 * 1024,
});
/** Header lines read from one METADATA / PKG-INFO; the header block of real files has a few dozen. */
export const MAX_PYTHON_METADATA_HEADER_LINES = 5_000;
/** A `License:` value longer than this is the licence text itself, not a name. */
export const MAX_PYTHON_LICENSE_NAME_CHARS = 100;
/** Physical lines joined by trailing backslashes into one logical requirement, at most. */
export const MAX_REQUIREMENT_CONTINUATION_LINES = 1_000;
/** Deepest nesting of arrays and inline tables accepted in a TOML lock file. */
export const MAX_TOML_NESTING = 64;

/** Largest JavaScript file of each kind parsed; bigger ones get a notice. YAML costs ~30x its size in memory. */
export const MAX_NPM_FILE_BYTES: Readonly<Record<'package.json' | 'package-lock' | 'yarn.lock' | 'pnpm-lock', number>> = Object.freeze({
  'package.json': 8 * 1024 * 1024,
  'package-lock': 48 * 1024 * 1024,
  'yarn.lock': 48 * 1024 * 1024,
  'pnpm-lock': 8 * 1024 * 1024,
});
/** npm's own limit on package names (longer ones are not real packages), and the longest version accepted. */
export const MAX_NPM_NAME_CHARS = 214;
export const MAX_NPM_VERSION_CHARS = 256;
/** Licences kept from one `licenses` array. */
export const MAX_NPM_LICENSES = 64;
/** Deepest `dependencies` nesting followed in a v1 package lock; real trees stay far below this. */
export const MAX_NPM_LOCK_V1_NESTING = 256;
/** Most package-lock entries looked at in one file. */
export const MAX_NPM_LOCK_ENTRIES = 500_000;
/** YAML documents read from one pnpm lock (pnpm writes one, or two when it pins its own version). */
export const MAX_PNPM_LOCK_DOCUMENTS = 8;
/** YAML aliases one pnpm lock document may expand: the guard against "billion laughs" alias bombs. */
export const MAX_PNPM_LOCK_ALIASES = 100;
/** Most descriptors one yarn.lock entry may list (`a@^1, a@^1.2, …`); more is not a real lock file. */
export const MAX_YARN_DESCRIPTORS_PER_ENTRY = 10_000;

// --- Threat detectors (threats/) ---

/** Files above these sizes are not opened by the text detectors (scripts, configs): logs and data dumps, not code. */
export const MAX_TEXT_CANDIDATE_BYTES = 4 * 1024 * 1024;
/** Programs larger than this are not YARA-scanned or parsed (the walker's own per-file limit applies too). */
export const MAX_PROGRAM_CANDIDATE_BYTES = 256 * 1024 * 1024;

/** Longest excerpt of a file quoted in a finding's evidence. */
export const MAX_EXCERPT_CHARS = 200;
/** Most matches kept per finding: enough to check, not a dump of the file. */
export const MAX_MATCHES_PER_FINDING = 8;

/** Entropy is measured over at most this many bytes per file; sections past the budget are listed without it. */
export const ENTROPY_BYTE_BUDGET = 64 * 1024 * 1024;
/** Sections listed in an executable's evidence (code sections first); the rest are counted only. */
export const MAX_SECTIONS_IN_EVIDENCE = 24;
/** Imported DLLs listed in a PE's evidence. */
export const MAX_DLLS_IN_EVIDENCE = 32;

/** Most cryptominer findings one file yields: enough to act on, not a dump of a wordlist. */
export const MAX_MINER_FINDINGS_PER_FILE = 20;
/** Characters of one line looked at for a miner command line. */
export const MAX_MINER_LINE_SCAN_CHARS = 4096;
/** Largest JSON miner configuration parsed (XMRig's are a few KiB). */
export const MAX_MINER_CONFIG_JSON_BYTES = 1024 * 1024;
/** Pools and users read from one miner configuration, and pools listed in its finding. */
export const MAX_MINER_CONFIG_POOLS = 16;
export const MAX_MINER_POOLS_IN_EVIDENCE = 8;
/** Stratum URLs looked at in one file. */
export const MAX_STRATUM_URLS_PER_FILE = 200;
/** Wallet address candidates checksum-checked per address format in one text. */
export const MAX_WALLET_CANDIDATES_PER_FORMAT = 64;
/** Host tokens read from one text when looking for known mining pools. */
export const MAX_POOL_HOST_TOKENS = 10_000;

/** Most secrets reported per text: a dump of credentials is still one finding per secret, up to this many. */
export const MAX_SECRETS_PER_TEXT = 32;
/** Most regex matches examined per rule per text, secret or not (bounds work on hostile input). */
export const MAX_SECRET_CANDIDATES_PER_RULE = 2000;
/** Keyword positions examined before every secret rule is simply run (hostile repetition). */
export const MAX_SECRET_KEYWORD_POSITIONS = 10_000;

/** Most backdoor findings one file yields. */
export const MAX_BACKDOOR_FINDINGS_PER_FILE = 20;
/** Keys read from one authorized_keys file, and keys listed in its finding. */
export const MAX_AUTHORIZED_KEYS = 1000;
export const MAX_AUTHORIZED_KEYS_IN_EVIDENCE = 8;
/** Library paths read from one `/etc/ld.so.preload`. */
export const MAX_PRELOAD_PATHS = 64;
/** Prefilter positions examined before every backdoor pattern is simply run (hostile repetition). */
export const MAX_BACKDOOR_PREFILTER_POSITIONS = 10_000;
/** Anchors of one backdoor pattern examined per text. */
export const MAX_BACKDOOR_ANCHORS_PER_PATTERN = 200;
/** Characters either side of an anchor looked at on one (possibly huge, minified) line. */
export const MAX_BACKDOOR_LINE_REACH_CHARS = 2000;
/** Web shells: assignments read for input, variables tracked, sinks and `preg_replace` calls examined, hits kept. */
export const MAX_WEBSHELL_ASSIGNMENTS = 2000;
export const MAX_WEBSHELL_TAINTED_VARIABLES = 64;
export const MAX_WEBSHELL_SINKS = 500;
export const MAX_WEBSHELL_PREG_REPLACE_CALLS = 100;
export const MAX_WEBSHELL_HITS = 8;
/** Characters of a call's arguments looked at for request input. */
export const MAX_WEBSHELL_ARGUMENT_CHARS = 400;

/** Most string matches kept per matching YARA rule (the engines may find many more; a finding shows a few). */
export const MAX_YARA_STRINGS_PER_RULE = 32;
/** Most bytes of one YARA string match kept. */
export const MAX_YARA_MATCH_DATA_BYTES = 256;
/** Matches per pattern at which the YARA engine stops counting: keeps `#a > N` conditions sane and output bounded. */
export const MAX_YARA_MATCHES_PER_PATTERN = 1000;
/** Per-file scan timeout given to `yara -a`, in seconds. */
export const YARA_SCAN_TIMEOUT_SECONDS = 20;
/** Compile rounds that each leave out the rules the engine refuses, before loading gives up. */
export const MAX_YARA_COMPILE_ROUNDS = 200;
/** Small ZIP archives are opened and their members YARA-scanned too (payloads are often shipped zipped). */
export const MAX_YARA_ZIP_BYTES = 8 * 1024 * 1024;
export const MAX_YARA_ZIP_MEMBERS = 64;
/** The ZIP reader's bounds for those archives: entries listed, bytes per member and in all. */
export const YARA_ZIP_LIMITS: Readonly<{ maxEntries: number; maxEntryBytes: number; maxTotalBytes: number }> = Object.freeze({
  maxEntries: 4096,
  maxEntryBytes: 4 * MAX_YARA_ZIP_BYTES,
  maxTotalBytes: 8 * MAX_YARA_ZIP_BYTES,
});

// --- Unpacking (unpack/) ---

/** Payloads inside payloads are followed this deep (a base64 blob of a gzip of a tar of a script is 3 deep). */
export const MAX_UNPACK_DEPTH = 4;
/** Files larger than this are not looked into for payloads. */
export const MAX_UNPACK_INPUT_BYTES = 64 * 1024 * 1024;
/** What all payloads got out of one file may add up to, at every depth together, and one payload's largest size. */
export const MAX_UNPACKED_BYTES_PER_FILE = 96 * 1024 * 1024;
export const MAX_PAYLOAD_BYTES = 32 * 1024 * 1024;
/** Payloads analysed per file, at every depth together (an archive of thousands of members is cut here). */
export const MAX_PAYLOADS_PER_FILE = 256;
/** A decompression that expands more than this many times its input, past the first MiB, is a bomb: stopped. */
export const MAX_UNPACK_RATIO = 200;
export const UNPACK_RATIO_CHECK_AFTER_BYTES = 1024 * 1024;
/** Shortest base64, hex and escaped runs decoded (shorter ones are words, hashes and colours, not programs). */
export const MIN_BASE64_CHARS = 24;
export const MIN_HEX_CHARS = 32;
export const MIN_ESCAPED_BYTES = 8;
/** Encoded runs tried per text, and characters of a run's line read to see what the decoded bytes are fed to. */
export const MAX_ENCODED_RUNS_PER_TEXT = 4096;
export const MAX_FEED_CONTEXT_CHARS = 2000;
/** Where in a self-extracting script its payload may start, and the heredocs read from one script. */
export const MAX_SELF_EXTRACTING_HEADER_BYTES = 1024 * 1024;
export const MAX_HEREDOCS_PER_SCRIPT = 64;
/** Members listed from one tar or zip archive found in a file. */
export const MAX_ARCHIVE_MEMBERS = 10_000;
