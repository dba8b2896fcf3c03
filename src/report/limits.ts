/**
 * Bounds of the renderers (listed in `LIMIT_MODULES`, src/config/limits.ts): how much of a hostile report each format
 * shows or measures (cells, rows, identifiers, descriptions, evidence) and what a license expression may weigh. The
 * JSON report keeps everything; these cut only what a format shows. Constants only, no imports: the HTML report's
 * client (html/client/, bundled for the browser) imports this module too.
 */

// --- Table (table.ts) ---

/** No cell is measured past this many columns: a megabyte-long name must not cost a megabyte of padding work. */
export const MAX_CELL_CHARS = 256;
/** Above this many info findings of one category (647 Wine DLLs are each `windows-pe`) the table shows one row. */
export const MAX_INFO_ROWS_PER_CATEGORY = 5;
/** Rows of each list the detonation section shows before it says how many more there are. */
export const MAX_BEHAVIOR_ROWS = 12;
/** Wrapped lines shown of one detonation summary value after its first. */
export const MAX_BEHAVIOR_VALUE_MORE_LINES = 3;
/** DNS names the one-line detonation summary names before `…`. */
export const MAX_SUMMARY_DNS_NAMES = 3;

// --- SBOMs, SARIF and license expressions ---

/** Longest part of an SPDX identifier taken from a name (`SPDXRef-Package-<name>-…`). */
export const MAX_SPDX_ID_PART_CHARS = 80;
/** Longest image name in an `oci` purl. */
export const MAX_OCI_PURL_NAME_CHARS = 128;
/** Longest SARIF rule short and full descriptions. */
export const MAX_SARIF_SHORT_DESCRIPTION_CHARS = 1000;
export const MAX_SARIF_FULL_DESCRIPTION_CHARS = 4000;
/** At most this many evidence keys, each value at most this long, in a SARIF result's properties. */
export const MAX_SARIF_EVIDENCE_KEYS = 16;
export const MAX_SARIF_EVIDENCE_CHARS = 512;
/** Longer strings are not license expressions a package manager would write; refusing them bounds the work. */
export const MAX_LICENSE_EXPRESSION_CHARS = 1000;
export const MAX_LICENSE_EXPRESSION_NESTING = 32;

// --- The HTML report's page (html/client/) ---

/** Processes drawn as lanes of the timeline; the table below it lists all. */
export const MAX_TIMELINE_LANES = 40;
