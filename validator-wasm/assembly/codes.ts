/**
 * Diagnostic codes shared by the WebAssembly validator (AssemblyScript) and its TypeScript host.
 *
 * This file is valid AssemblyScript and valid TypeScript: the module compiles it, the host
 * imports it, so the numbers cannot drift apart.
 *
 * @module
 */

/** What went wrong; the host turns a code plus path and value into a sentence. */
export enum Code {
  /** The text is not JSON: an unexpected character. */
  SyntaxUnexpectedChar = 1,
  /** The text is not JSON: it ends too early. */
  SyntaxUnexpectedEnd = 2,
  /** The text is not JSON: a bad escape sequence in a string. */
  SyntaxBadEscape = 3,
  /** The text is not JSON: a raw control character inside a string. */
  SyntaxControlChar = 4,
  /** The text is not JSON: a malformed number. */
  SyntaxBadNumber = 5,
  /** Nesting deeper than Go's encoding/json accepts (10000). */
  SyntaxTooDeep = 6,
  /** The text is not JSON: something follows the value. */
  SyntaxTrailing = 7,
  /** The config is not a JSON object. */
  RootNotObject = 10,
  /** A required key is missing. */
  Missing = 11,
  /** The value must be a string. */
  NotString = 12,
  /** The value must be a boolean. */
  NotBoolean = 13,
  /** The value must be an integer (Go int). */
  NotInteger = 14,
  /** The value must be an integer between 0 and 4294967295 (Go uint32). */
  NotUint32 = 15,
  /** The value must be a non-negative integer (Go uint64). */
  NotUint64 = 16,
  /** The value must be an object. */
  NotObject = 17,
  /** The value must be a list. */
  NotArray = 18,
  /** `cniVersion` is not a known CNI version. */
  UnknownVersion = 20,
  /** `cniVersions` lists no known CNI version. */
  NoKnownVersion = 21,
  /** `name` does not match the CNI name pattern. */
  BadName = 22,
  /** `type` is not a bare file name. */
  BadPluginType = 23,
  /** A conflist without plugins. */
  EmptyPlugins = 24,
  /** Not an IP address. */
  NotIp = 30,
  /** Not a CIDR (address/prefix). */
  NotCidr = 31,
  /** A subnet with host bits set (host-local refuses it). */
  HostBits = 32,
  /** A subnet too small to allocate from (IPv4 /31, /32; IPv6 /127, /128). */
  SubnetTooSmall = 33,
  /** An address of the other IP family than its subnet. */
  FamilyMismatch = 34,
  /** An address outside its subnet. */
  OutsideSubnet = 35,
  /** `rangeStart` after the range end. */
  StartAfterEnd = 36,
  /** Two ranges of one range set overlap. */
  RangeOverlap = 37,
  /** A range set mixes IPv4 and IPv6. */
  RangeSetMixed = 38,
  /** A range set without ranges. */
  RangeSetEmpty = 39,
  /** host-local without any range. */
  NoRanges = 40,
  /** Two range sets overlap. */
  RangeSetOverlap = 41,
  /** Two attachments of a plan use the same interface name. */
  DuplicateIfname = 50,
  /** Host-local subnets of two attachments overlap. */
  SubnetOverlap = 51,
  /** More than one attachment asks for a default route of one IP family. */
  MultipleDefaultRoutes = 52,
}

/** How bad an issue is. */
export enum Severity {
  /** The config must be refused. */
  Error = 0,
  /** The config works but is suspicious. */
  Warning = 1,
}
