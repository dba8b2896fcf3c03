/**
 * Readers for compiled programs and libraries, shared by the package catalogers (Go, Rust) and the threat
 * detectors. Pure functions over a Buffer; malformed input throws `BinaryFormatError`, never anything else.
 */
export { BinaryFormatError, isBinaryFormatError, type BinaryErrorCode } from './errors.js';
export { ByteView, checkRange } from './bytes.js';
export { readElf, findElfSection, elfSectionBytes, isElf, elfMachineName, type ElfFile, type ElfSection, type ElfProgramHeader } from './elf.js';
export { readPe, findPeSection, peSectionBytes, isPe, peMachineName, type PeFile, type PeSection, type PeDataDirectory } from './pe.js';
export { readMachO, readMachOFat, machOKind, findMachOSection, machOSectionBytes, machOCpuName, type MachOFile, type MachOSection, type MachOSegment, type MachOFatArch } from './macho.js';
export {
  detectExecutableFormat,
  readExecutable,
  findSection,
  sectionBytes,
  readAtAddress,
  type Executable,
  type ExecutableFormat,
  type BinarySection,
  type MappedRange,
} from './executable.js';
export { isExecutableCandidate, MIN_EXECUTABLE_BYTES } from './candidates.js';
export { MAX_EXECUTABLE_BYTES } from '../limits.js';
