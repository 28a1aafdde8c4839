// Package jea implements hop's Just Enough Administration endpoints: a
// restricted remote-session configuration that lets members of directory
// groups run an explicit list of commands, with argument rules, as a
// configured privileged local account (the "virtual account"), and nothing
// else. It is a pure library: the hop agent (package agent) decodes an
// [Endpoint] from its TOML configuration, compiles it into a [Policy] once,
// splits each exec request with [Split], asks [Policy.Check] whether it may
// run, executes the resulting [Decision.Path] and [Decision.Argv] directly
// (no shell, no PATH lookup, scrubbed environment) and records it in a
// [Transcript].
//
// # Model
//
// This is hop's counterpart of PowerShell JEA session configurations and
// role capabilities (Microsoft Learn, "JEA role capabilities": VisibleCmdlets
// with ValidateSet / ValidatePattern parameters; "JEA session
// configurations": RunAsVirtualAccount, TranscriptDirectory). A role maps
// groups (names or SID strings, as written in the configuration; the caller
// answers membership) to commands; a command is an absolute executable path
// plus positional argument rules, each matching exactly one argument:
//
//   - value: exactly this string;
//   - values: one of these strings;
//   - regex: a Go regular expression (RE2: linear time, no backtracking),
//     anchored on the whole argument (the package wraps it in ^(?:…)$).
//
// Only trailing rules may be optional. Extra arguments are refused unless
// allow_more_args is set. Options ("-x", "--") are ordinary arguments: a rule
// must allow them.
//
// # What is refused
//
// The command line is split with shell-like quoting only ('…', "…", \): there
// is no expansion of any kind, so ; | & $( ` > < are ordinary characters of a
// word and can never start another command. argv[0] must be either exactly a
// configured path or the base name of exactly one command the user may run;
// "../", "//", "/./" spellings and look-alike characters never match. An
// argument containing NUL, CR or LF, invalid UTF-8, more than [MaxArgs]
// arguments or one longer than [MaxArgLen] bytes is refused. Every refusal
// says why and lists what the user may run instead ([Policy.Help]).
//
// # Load-time warnings
//
// [Endpoint.Compile] rejects what is invalid and warns about what is legal but
// probably allows more than intended: a regex that matches any argument or
// contains an unbounded wildcard, a regex that admits option-like arguments
// ("-…") or ".." path components, a command that is a shell, interpreter or
// program that runs other programs (sh, python, env, sudo, find -exec, vi,
// less, tar…), allow_more_args, and an executable path that is missing, not
// owned by root or writable by group or others (the path and every parent
// directory, following symbolic links).
//
// # Transcripts
//
// A [Transcript] is one file per session (mode 0600 in a 0700 directory) of
// JSON lines: a start record naming the real user, command records with the
// argv, output records (bounded per command, see [TranscriptConfig]) and exit
// records with the exit status, and an end record. [Transcript.Begin] writes
// a command before it runs ([Transcript.End] its exit status);
// [Transcript.Command] records a command and its exit status in one call
// (a refused command, or one whose output was recorded first).
package jea
