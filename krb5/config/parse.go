package config

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Bounds on the work done for one configuration.
const (
	// MaxFileSize bounds the size of one file.
	MaxFileSize = 1 << 20
	// MaxLineLength bounds a line, its '\n' excluded: MIT reads lines into
	// a 2048-byte buffer and splits longer ones.
	MaxLineLength = 2046
	// MaxDepth bounds the nesting of subsections ("a = { b = { ... } }"):
	// a section is at depth 1.
	MaxDepth = 32
	// MaxIncludeDepth bounds the nesting of include and includedir.
	MaxIncludeDepth = 10
	// MaxEntries bounds the number of relations and sections in one tree
	// (one file with everything it includes).
	MaxEntries = 100000
	// MaxFiles bounds the number of files one Load or LoadFiles reads.
	MaxFiles = 1000
	// MaxTotalSize bounds the bytes one Load or LoadFiles reads.
	MaxTotalSize = 16 << 20
)

// ParseError is an error in a configuration file: a syntax error, or an
// include that failed. Path is the file's name as given to the parser (or
// named by include), Line the 1-based line number, 0 when the error is about
// the whole file.
type ParseError struct {
	Path string
	Line int
	Err  error
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("config: %s: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("config: %s:%d: %v", e.Path, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// The syntax errors, worded after MIT's (prof_err.et) with what to do.
var (
	errSectionNotTop = errors.New("a section header inside a subsection (a '}' is missing)")
	errSectionSyntax = errors.New(`bad section header: want "[name]" or "[name]*" alone on the line`)
	errRelation      = errors.New(`bad relation: want "tag = value" or "tag = {"`)
	errExtraBrace    = errors.New("a '}' that closes no subsection")
	errMissingBrace  = errors.New(`"tag =" without a value must be followed by a line starting with '{'`)
	errModule        = errors.New(`the "module" directive (a configuration loaded from a shared library) is not supported by hop`)
	errNUL           = errors.New("a NUL byte (not a text file?)")
	errLineLength    = fmt.Errorf("a line longer than %d bytes", MaxLineLength)
	errDepth         = fmt.Errorf("subsections nested deeper than %d levels", MaxDepth)
	errEntries       = fmt.Errorf("more than %d relations and sections", MaxEntries)
	errNoInclude     = errors.New("include and includedir need files: use ParseFile or LoadFiles")
)

// section is a node of a profile tree: the root, a [section] or a
// subsection. Subsections of the same name are merged (MIT's
// profile_add_node); relations of the same tag keep their order.
type section struct {
	parent *section
	final  bool
	subs   map[string]*section
	rels   map[string][]relation
}

type relation struct {
	value string
	final bool
}

// File is one parsed krb5.conf, with the files it includes merged in.
// It is immutable and safe for concurrent use.
type File struct {
	name string
	root *section
}

// Name returns the file's name as given to Parse or ParseFile.
func (f *File) Name() string { return f.name }

// includer reads the files named by include and includedir; nil refuses
// them.
type includer interface {
	// include parses the file at path into t.
	include(t *tree, path string) error
	// includeDir parses the files of the directory at path into t.
	includeDir(t *tree, path string) error
}

// tree is the state shared by a file and the files it includes.
type tree struct {
	root    *section
	entries int
	inc     includer
	depth   int // include depth of the file being parsed
}

// Parse parses data, the contents of a krb5.conf named name (name is used in
// errors only). include and includedir directives are errors: use ParseFile
// for a file on disk.
func Parse(name string, data []byte) (*File, error) {
	t := &tree{root: &section{}}
	if err := t.parse(name, data); err != nil {
		return nil, err
	}
	return &File{name: name, root: t.root}, nil
}

// Parser states, as in prof_parse.c.
const (
	stateInitComment = iota // before the first section: lines are ignored
	stateStdLine
	stateGetOBrace // after "tag =": the next line must start with '{'
)

// lineState is the state of one file's parse: included files start afresh
// (MIT's syntactic independence) but share the tree.
type lineState struct {
	state   int
	level   int // 0 before any section, 1 in a section, 2+ in subsections
	discard int // level of a final-flagged (sub)section being discarded, or 0
	cur     *section
}

// parse parses one file's data into t.
func (t *tree) parse(name string, data []byte) error {
	if len(data) > MaxFileSize {
		return &ParseError{Path: name, Err: fmt.Errorf("larger than %d bytes", MaxFileSize)}
	}
	st := &lineState{state: stateInitComment}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		// A line keeps its '\n', as fgets keeps it: the directives
		// test the byte after their keyword with isspace.
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
			if i > MaxLineLength {
				return &ParseError{Path: name, Line: lineNo, Err: errLineLength}
			}
		} else {
			line, data = data, nil
			if len(line) > MaxLineLength {
				return &ParseError{Path: name, Line: lineNo, Err: errLineLength}
			}
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return &ParseError{Path: name, Line: lineNo, Err: errNUL}
		}
		if err := t.parseLine(st, string(line)); err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				return err
			}
			return &ParseError{Path: name, Line: lineNo, Err: err}
		}
	}
	return nil
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func skipBlanks(s string) string {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return s[i:]
}

// stripLine removes the trailing '\r' and '\n' bytes (MIT's strip_line).
func stripLine(s string) string {
	return strings.TrimRight(s, "\r\n")
}

// directive reports whether line starts with keyword followed by a blank,
// and returns what follows the blanks, CR and LF stripped.
func directive(line, keyword string) (string, bool) {
	if len(line) <= len(keyword) || !strings.HasPrefix(line, keyword) || !isSpace(line[len(keyword)]) {
		return "", false
	}
	return stripLine(skipBlanks(line[len(keyword):])), true
}

func (t *tree) parseLine(st *lineState, line string) error {
	if arg, ok := directive(line, "include"); ok {
		if t.inc == nil {
			return errNoInclude
		}
		return t.inc.include(t, arg)
	}
	if arg, ok := directive(line, "includedir"); ok {
		if t.inc == nil {
			return errNoInclude
		}
		return t.inc.includeDir(t, arg)
	}
	switch st.state {
	case stateInitComment:
		if _, ok := directive(line, "module"); ok {
			return errModule
		}
		if line[0] != '[' {
			return nil
		}
		st.state = stateStdLine
		return t.parseStdLine(st, line)
	case stateStdLine:
		return t.parseStdLine(st, line)
	default: // stateGetOBrace
		if cp := skipBlanks(line); cp == "" || cp[0] != '{' {
			return errMissingBrace
		}
		st.state = stateStdLine
		return nil
	}
}

// count charges one entry to the tree's budget.
func (t *tree) count() error {
	t.entries++
	if t.entries > MaxEntries {
		return errEntries
	}
	return nil
}

// subsection returns s's subsection name, creating it if need be.
func (t *tree) subsection(s *section, name string) (*section, error) {
	if sub := s.subs[name]; sub != nil {
		return sub, nil
	}
	if err := t.count(); err != nil {
		return nil, err
	}
	sub := &section{parent: s}
	if s.subs == nil {
		s.subs = make(map[string]*section)
	}
	s.subs[name] = sub
	return sub, nil
}

// addRelation adds tag = value to s unless a final node of that name is
// already there (MIT's profile_add_node with check_final).
func (t *tree) addRelation(s *section, tag, value string, final bool) error {
	if sub := s.subs[tag]; sub != nil && sub.final {
		return nil
	}
	rs := s.rels[tag]
	// Nothing is added after a final relation, so if one exists it is the
	// last.
	if len(rs) > 0 && rs[len(rs)-1].final {
		return nil
	}
	if err := t.count(); err != nil {
		return err
	}
	if s.rels == nil {
		s.rels = make(map[string][]relation)
	}
	s.rels[tag] = append(rs, relation{value: value, final: final})
	return nil
}

// parseStdLine is MIT's parse_std_line.
func (t *tree) parseStdLine(st *lineState, line string) error {
	cp := skipBlanks(line)
	if cp == "" || cp[0] == ';' || cp[0] == '#' {
		return nil
	}
	cp = stripLine(cp)
	if cp == "" {
		return nil
	}
	switch cp[0] {
	case '[':
		if st.level > 1 {
			return errSectionNotTop
		}
		end := strings.IndexByte(cp, ']')
		if end < 0 {
			return errSectionSyntax
		}
		sec, err := t.subsection(t.root, cp[1:end])
		if err != nil {
			return err
		}
		st.cur = sec
		st.level = 1
		// A section seen before with the final flag discards what this
		// occurrence would add, up to the next section header.
		st.discard = 0
		if sec.final {
			st.discard = 1
		}
		rest := cp[end+1:]
		if strings.HasPrefix(rest, "*") {
			sec.final = true
			rest = rest[1:]
		}
		if skipBlanks(rest) != "" {
			return errSectionSyntax
		}
		return nil
	case '}':
		if st.level < 2 {
			return errExtraBrace
		}
		if len(cp) > 1 && cp[1] == '*' {
			st.cur.final = true
		}
		st.level--
		if st.level < st.discard {
			st.discard = 0
		}
		// When the subsection that ends was discarded, the parser
		// never descended into it.
		if st.discard == 0 {
			st.cur = st.cur.parent
		}
		return nil
	}
	eq := strings.IndexByte(cp, '=')
	if eq <= 0 {
		return errRelation
	}
	tag := cp[:eq]
	for i := 0; i < len(tag); i++ {
		if isSpace(tag[i]) {
			if skipBlanks(tag[i:]) != "" {
				return errRelation // "a b = c"
			}
			tag = tag[:i]
			break
		}
	}
	value := skipBlanks(cp[eq+1:])
	sub := false
	switch {
	case strings.HasPrefix(value, `"`):
		value = unquote(value[1:])
	case value == "":
		sub = true
		st.state = stateGetOBrace
	case value[0] == '{' && skipBlanks(value[1:]) == "":
		sub = true
	default:
		end := len(value)
		for end > 1 && isSpace(value[end-1]) {
			end--
		}
		value = value[:end]
	}
	final := false
	if i := strings.IndexByte(tag, '*'); i >= 0 {
		tag, final = tag[:i], true
	}
	if sub {
		st.level++
		if st.level > MaxDepth {
			return errDepth
		}
		if st.discard != 0 {
			return nil
		}
		s, err := t.subsection(st.cur, tag)
		if err != nil {
			return err
		}
		st.cur = s
		// A subsection seen before with the final flag discards what
		// this occurrence would add.
		if s.final {
			st.discard = st.level
		}
		if final {
			s.final = true
		}
		return nil
	}
	if st.discard != 0 {
		return nil
	}
	return t.addRelation(st.cur, tag, value, final)
}

// unquote decodes a quoted value, s starting after the opening quote, up to
// the closing quote or the end (MIT's parse_quoted_string).
func unquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && s[i] != '"'; i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			default:
				c = s[i]
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sortedSubs returns the names of s's subsections in byte order, the order
// in which MIT lists them.
func (s *section) sortedSubs() []string {
	names := make([]string, 0, len(s.subs))
	for n := range s.subs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
