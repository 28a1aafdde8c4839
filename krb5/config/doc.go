// Package config reads krb5.conf, the client configuration of MIT Kerberos,
// the way MIT's libraries read it, so that hop's client commands find
// realms, KDCs, the admin and password-change servers and the credential
// cache exactly where kinit, klist and kvno find them, from the same file.
//
// # The file format
//
// krb5.conf is in MIT's "profile" format (MIT krb5.conf(5), "Structure";
// src/util/profile/prof_parse.c): Parse follows that grammar line by line.
//
//   - Lines are read up to '\n'; a trailing "\r\n" is tolerated everywhere.
//     A line whose first non-blank byte is '#' or ';' is a comment. There
//     are no trailing comments: "kdc = a # b" has the value "a # b".
//   - Everything before the first line that starts with '[' in column 0 is
//     ignored, as MIT ignores it.
//   - "[name]" starts a top-level section; a '*' right after ']' marks it
//     final. Blanks may follow; anything else is an error.
//   - "tag = value" is a relation. The value keeps its inner spaces and
//     loses the trailing ones. A value that starts with '"' is a quoted
//     string up to the next unescaped '"', with the escapes \n, \t, \b and
//     \X for any other X. Repeated tags accumulate in file order (several
//     "kdc =" lines).
//   - "tag = {" (or "tag =" with the very next line starting with '{',
//     not even a comment between) opens a subsection, closed by a line starting with '}'. Subsections nest, and
//     sections or subsections of the same name are merged.
//   - A '*' in a tag ("tag* = value", "tag* = {") or right after a closing
//     brace ("}*") marks the relation or subsection final.
//   - "include FILE" and "includedir DIR" in column 0 include a file, or the
//     files of a directory whose names end in ".conf" (not starting with
//     '.') or consist of letters, digits, '-' and '_', in byte order. An
//     included file is syntactically independent of its parent (it starts
//     outside any section) and adds to the same tree. FILE and DIR should
//     be absolute; a relative one is taken relative to the working
//     directory, as by MIT. A missing file or directory is an error.
//
// # Final flags and several files
//
// KRB5_CONFIG names several files, colon-separated (Load). Each file is a
// tree of its own; a query (Config.Values) collects the values of every
// file in order, so the first file wins for single-valued settings and
// multi-valued ones ("kdc") accumulate. A final section, subsection or
// relation on the path of a query stops the search after the file that
// holds it. Within one file (with its includes), a section or subsection
// that was marked final ignores what a later occurrence of it would add,
// and a relation marked final ignores later values of the same tag. These
// are the semantics of MIT krb5 1.22 (MIT's final1-6.ini tests); releases
// before 1.22 apply final flags only across KRB5_CONFIG files and only to
// sections and subsections.
//
// # Differences from MIT, on purpose
//
// Work is bounded: a file may hold at most MaxFileSize bytes and its lines
// at most MaxLineLength bytes (MIT's own line buffer; longer lines are an
// error instead of being split); subsections nest at most MaxDepth deep;
// includes nest at most MaxIncludeDepth deep and an include cycle is an
// error (MIT recurses until it crashes); a tree holds at most MaxEntries
// relations and sections; one Load reads at most MaxFiles files and
// MaxTotalSize bytes. A NUL byte is an error (C would silently cut the line
// there). The "module" directive (a profile loaded from a shared library)
// is refused. Errors name the file and the line: "config:
// /etc/krb5.conf:12: a section header inside a subsection (a '}' is
// missing)".
//
// hop does not use DNS for Kerberos: KDCs, admin servers and realms come
// from the file alone (dns_lookup_kdc and dns_lookup_realm are not
// consulted), and RealmOf never asks a KDC for a referral.
//
// # hop's own settings
//
// MIT and Heimdal ignore sections they do not know, so hop keeps its
// settings in krb5.conf under [hop], with per-realm overrides in a
// subsection named after the realm, the layout MIT uses for [libdefaults]:
//
//	[hop]
//		admin_url = https://kdc1.example.test:8443
//		EXAMPLE.TEST = {
//			admin_url = https://kdc.example.test:8443
//		}
//
// Config.HopSettings is the one reader of these settings: for a realm, it
// reads each key from the realm's subsection first, then from [hop].
// Keeping hop's settings out of [realms] leaves that section to the
// Kerberos libraries and keeps every hop setting in one place.
//
// # Servers, realms and caches
//
// KDC, admin server and password-change server entries are parsed as MIT's
// k5_parse_host_string does ("host", "host:port", "[v6addr]:port"; the
// default ports are 88 for the KDC, RFC 4120 §7.2.3, 749 for kadmin and 464
// for kpasswd, RFC 3244). MS-KKDCP entries ("https://...") and UNIX socket
// paths are valid for MIT but not usable by hop: they are reported as
// errors. Host names map to realms through [domain_realm] and MIT's domain
// heuristics (Config.RealmOf). Config.CCacheName finds the credential cache
// as krb5_cc_default_name does: KRB5CCNAME, default_ccache_name with its
// %{...} expansions, or FILE:/tmp/krb5cc_%{uid}; hop reads and writes FILE
// and DIR caches, and KCM caches through the KCM server at kcm_socket
// (Config.KCMSocket), and reports KEYRING, MEMORY and the other types as
// unsupported.
package config
