/**
 * keepalived, read and edited as text: the config parser (positions for every statement),
 * what it programs into IPVS, keepalived's SIGUSR1 dumps, owner and drift against the
 * kernel, and minimal config edits. Pure: every file and dump comes from the caller.
 * See README.md in this folder.
 */
export { parseKeepalivedConfig, type ParseOptions } from "./config";
export { type ConfigFiles, type IncludeRef, type Token } from "./lexer";
export { type ConfigBlock, type ConfigNode, walk } from "./tree";
export { type Finding, type FindingSeverity, type SourceRef, formatSource } from "./source";
export type * from "./types";
export {
  programmedServices,
  type Programmed,
  type ProgrammedRealserver,
  type ProgrammedService,
} from "./program";
export {
  parseCheckDump,
  parseVrrpDump,
  realserverUp,
  type CheckDump,
  type CheckDumpChecker,
  type CheckDumpRealserver,
  type CheckDumpService,
  type DumpFinding,
  type VrrpDump,
  type VrrpDumpInstance,
  type VrrpDumpSyncGroup,
} from "./dump";
export { debianAutoLoads, readRulesFile, type RulesFile } from "./rules-file";
export {
  ownership,
  type DriftItem,
  type DriftReason,
  type Owner,
  type OwnerInput,
  type OwnerReport,
  type RealserverOwnership,
  type ServiceOwnership,
} from "./owner";
export { summarizeOwnership, vrrpRole, type OwnerSummary } from "./summary";
export { undoNote, type UndoChange, type UndoOwner } from "./undo";
export { type EditRefusal, type EditResult, type FileChange } from "./edit-support";
export { addRealserver, removeRealserver, setRealserverWeight } from "./edit-realserver";
export {
  addVirtualServer,
  deleteVirtualServer,
  editService,
  type NewVirtualServer,
  type ServiceChanges,
} from "./edit-service";
export { type ChangedLines } from "./text";
