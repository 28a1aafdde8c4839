package directory

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"hop/krb5"
)

// Limits on names ([MS-SAMR] §3.1.1.6, [MS-ADTS] §3.1.1.5.2.4).
const (
	maxAccountNameRunes = 20  // before a trailing "$"
	maxGroupNameRunes   = 64  // AD allows 256; hop keeps names short enough to type
	maxSPNLen           = 512 // bytes
	maxUPNLen           = 512 // bytes
	maxHostnameLen      = 253 // bytes (RFC 1035 §2.3.4)
	maxRealmLen         = 253
	maxDescriptionLen   = 1024 // bytes
	maxSPNsPerAccount   = 256
	maxMembersPerGroup  = 100_000
	// maxPrimaryGroupMembers bounds the members of the primary groups
	// (Domain Users, Domain Computers, ...), which list every account of
	// their kind: the most accounts a directory holds.
	maxPrimaryGroupMembers = 10_000_000
)

// memberLimit is the most members the group with RID rid may list:
// maxMembersPerGroup, or maxPrimaryGroupMembers for a primary group.
func memberLimit(rid uint32) int {
	if _, ok := primaryGroupNames[rid]; ok {
		return maxPrimaryGroupMembers
	}
	return maxMembersPerGroup
}

// forbiddenNameChars may not appear in a sAMAccountName ([MS-SAMR]
// §3.1.1.6, "Invalid characters").
const forbiddenNameChars = `"/\[]:;|=,+*?<>@`

// fold is the one case-insensitive form of names, SPNs and UPNs: the key of
// every index.
func fold(s string) string { return strings.ToLower(s) }

// nameKey is the form in which two names are the same name: Unicode
// compatibility normalization (NFKC: a fullwidth "ｂｏｂ" is "bob") and case
// folding, as AD compares sAMAccountNames. No two accounts or groups share
// one (the look-alike index, bucketNameKeys).
func nameKey(s string) string { return cases.Fold().String(norm.NFKC.String(s)) }

// nameScripts are the writing systems a name's letters may come from
// together: one script, or Latin with the scripts of Chinese, Japanese and
// Korean names (Unicode's "highly restrictive" profile, UTS #39 §5.2). A
// name that mixes others (a Cyrillic "а" in "аlice") looks like another.
// A domain widens this with Policy.NameScripts.
var nameScripts = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// scriptOf is the Unicode script of r; "" for the characters every script
// shares (Common: digits, punctuation; Inherited: combining marks).
func scriptOf(r rune) string {
	for script, table := range unicode.Scripts {
		if script != "Common" && script != "Inherited" && unicode.Is(table, r) {
			return script
		}
	}
	return ""
}

// checkScripts refuses a name whose letters mix writing systems beyond
// nameScripts and the domain's NameScripts (extra, as ParseNameScripts
// returns it): those may be mixed with Latin and with each other.
func checkScripts(what, name, extra string) error {
	var used []string
	first := map[string]rune{}
	for _, r := range name {
		if r < utf8.RuneSelf {
			if unicode.IsLetter(r) && !slices.Contains(used, "Latin") {
				first["Latin"] = r
				used = append(used, "Latin")
			}
			continue
		}
		script := scriptOf(r)
		if _, seen := first[script]; script != "" && !seen {
			first[script] = r
			used = append(used, script)
		}
	}
	if len(used) <= 1 {
		return nil
	}
	sets := nameScripts
	if extra != "" {
		sets = append(slices.Clip(sets), append([]string{"Latin"}, strings.Split(extra, ",")...))
	}
	for _, allowed := range sets {
		if !slices.ContainsFunc(used, func(u string) bool { return !slices.Contains(allowed, u) }) {
			return nil
		}
	}
	var parts []string
	for _, u := range used {
		parts = append(parts, fmt.Sprintf("%s (%q %U)", u, first[u], first[u]))
	}
	return invalid("%s name %q mixes the letters of %s: such a name can look like another one, and is refused; type it in one script (a domain admin may allow a script to be mixed with Latin: hop domain set --name-scripts)", what, name, strings.Join(parts, " and "))
}

// ParseNameScripts reads a list of Unicode script names ("Cyrillic,
// Greek", any case, separated by commas or spaces) for Policy.NameScripts
// and returns it in its canonical form: the scripts' Unicode names, sorted,
// joined by commas. "" and "default" are the empty list.
func ParseNameScripts(s string) (string, error) {
	if strings.EqualFold(strings.TrimSpace(s), "default") {
		return "", nil
	}
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		name := ""
		for script := range unicode.Scripts {
			if strings.EqualFold(script, f) {
				name = script
				break
			}
		}
		switch name {
		case "":
			return "", fmt.Errorf("%q is not a Unicode script name; give names such as Cyrillic, Greek, Arabic, Hebrew, Devanagari or Thai", f)
		case "Common", "Inherited":
			return "", fmt.Errorf("%s is not a writing system (it holds digits, punctuation and marks every script shares, which names may always contain)", name)
		case "Latin":
			continue // always allowed
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ","), nil
}

// checkNameChars applies the rules common to account and group names.
func checkNameChars(what, name string) error {
	if name == "" {
		return invalid("%s name is empty", what)
	}
	if !utf8.ValidString(name) {
		return invalid("%s name %q is not valid UTF-8", what, name)
	}
	if name != strings.TrimSpace(name) {
		return invalid("%s name %q begins or ends with a space", what, name)
	}
	if strings.Trim(name, ". ") == "" {
		return invalid("%s name %q consists only of periods and spaces", what, name)
	}
	if strings.ContainsRune(name, utf8.RuneError) {
		return invalid("%s name %q contains U+FFFD, the replacement character: the name was not valid UTF-8 where it was typed; type it again", what, name)
	}
	for _, r := range name {
		if strings.ContainsRune(forbiddenNameChars, r) {
			return invalid("%s name %q contains %q; names may not contain any of %s", what, name, r, forbiddenNameChars)
		}
		if !unicode.IsPrint(r) {
			return invalid("%s name %q contains the control or invisible character %U", what, name, r)
		}
	}
	return nil
}

// validateAccountName checks a sAMAccountName for an account of kind k.
func validateAccountName(name string, k Kind) error {
	if err := checkNameChars("account", name); err != nil {
		return err
	}
	base, dollar := strings.CutSuffix(name, "$")
	if strings.Contains(base, "$") {
		return invalid(`account name %q contains "$" before its end; "$" may only end a name`, name)
	}
	if n := utf8.RuneCountInString(base); n < 1 || n > maxAccountNameRunes {
		return invalid(`account name %q has %d characters before any final "$"; it must have 1 to %d`, name, n, maxAccountNameRunes)
	}
	if k == KindComputer && !dollar {
		return invalid(`computer account name %q must end in "$" (use %q)`, name, name+"$")
	}
	return nil
}

// validateGroupName checks a group's name.
func validateGroupName(name string) error {
	if err := checkNameChars("group", name); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(name); n > maxGroupNameRunes {
		return invalid("group name %q has %d characters; at most %d are allowed", name, n, maxGroupNameRunes)
	}
	return nil
}

// validateSPN checks "service/host[:port][/name]" ([MS-ADTS] §5.1.1.4).
func validateSPN(spn string) error {
	bad := func(why string) error {
		return invalid("SPN %q is not valid: %s; an SPN looks like service/host[:port][/name], e.g. host/b.example.test or HTTP/web.example.test:8080", spn, why)
	}
	if spn == "" {
		return bad("it is empty")
	}
	if len(spn) > maxSPNLen {
		return bad("it is longer than " + strconv.Itoa(maxSPNLen) + " bytes")
	}
	if !utf8.ValidString(spn) {
		return bad("it is not valid UTF-8")
	}
	parts := strings.Split(spn, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return bad("it must have two or three parts separated by /")
	}
	for _, p := range parts {
		if p == "" {
			return bad("a part is empty")
		}
	}
	for _, r := range parts[0] {
		if !isAlnum(r) && r != '-' && r != '_' && r != '.' {
			return bad("the service class may hold only letters, digits, '-', '_' and '.'")
		}
	}
	host, port, hasPort := strings.Cut(parts[1], ":")
	if host == "" {
		return bad("the host is empty")
	}
	for _, r := range host {
		if !isAlnum(r) && r != '-' && r != '_' && r != '.' {
			return bad("the host may hold only letters, digits, '-', '_' and '.'")
		}
	}
	if hasPort {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n < 1 {
			return bad("the port must be a number from 1 to 65535")
		}
	}
	if len(parts) == 3 {
		for _, r := range parts[2] {
			if r == '@' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
				return bad("the service name may not contain '@', '\\', spaces or control characters")
			}
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}

// validateUPN checks a user principal name "name@suffix".
func validateUPN(upn string) error {
	bad := func(why string) error {
		return invalid("UPN %q is not valid: %s; a UPN looks like alice@example.test", upn, why)
	}
	if len(upn) > maxUPNLen {
		return bad("it is longer than " + strconv.Itoa(maxUPNLen) + " bytes")
	}
	if !utf8.ValidString(upn) {
		return bad("it is not valid UTF-8")
	}
	local, suffix, ok := strings.Cut(upn, "@")
	if !ok || local == "" || suffix == "" {
		return bad("it must be name@suffix")
	}
	if strings.Contains(suffix, "@") {
		return bad("it contains more than one '@'")
	}
	for _, r := range local {
		if r == '/' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return bad("the name part may not contain '/', '\\', spaces or control characters")
		}
	}
	if err := checkDNSName(suffix); err != nil {
		return bad("the suffix " + err.Error())
	}
	return nil
}

// checkDNSName checks a host or domain name (RFC 1123 §2.1): dot-separated
// labels of letters, digits and inner hyphens.
func checkDNSName(s string) error {
	if len(s) > maxHostnameLen {
		return errText("is longer than 253 bytes")
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return errText("has an empty label or one longer than 63 bytes")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errText("has a label that begins or ends with '-'")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(rune(c)) && c != '-' {
				return errText("may hold only letters, digits, '-' and '.'")
			}
		}
	}
	return nil
}

type errText string

func (e errText) Error() string { return string(e) }

// validateHostname checks a computer's DNS host name.
func validateHostname(h string) error {
	if err := checkDNSName(h); err != nil {
		return invalid("DNS host name %q %s", h, err.Error())
	}
	return nil
}

// validateRealm checks a realm: a DNS domain name, as AD requires.
func validateRealm(r krb5.Realm) error {
	if r == "" {
		return invalid("the realm is empty; use the DNS domain in upper case, e.g. EXAMPLE.TEST")
	}
	if len(r) > maxRealmLen {
		return invalid("realm %q is longer than %d bytes", r, maxRealmLen)
	}
	if err := checkDNSName(string(r)); err != nil {
		return invalid("realm %q %s; use the DNS domain in upper case, e.g. EXAMPLE.TEST", r, err.Error())
	}
	return nil
}

// netBIOSName derives the NetBIOS domain name from the realm: its first
// label, upper case, at most 15 characters.
func netBIOSName(r krb5.Realm) string {
	first, _, _ := strings.Cut(string(r.Canonical()), ".")
	if len(first) > 15 {
		first = first[:15]
	}
	return first
}

// validateDescription checks free text.
func validateDescription(what, s string) error {
	if len(s) > maxDescriptionLen {
		return invalid("%s is longer than %d bytes", what, maxDescriptionLen)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not valid UTF-8", what)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return invalid("%s contains the control or invisible character %U", what, r)
		}
	}
	return nil
}
