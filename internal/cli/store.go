package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"hop/directory"
	"hop/domain"
)

// defaultDir is the --dir flag's default: $HOP_DIR or domain.DefaultDir.
func (e *env) defaultDir() string {
	if v := e.getenv("HOP_DIR"); v != "" {
		return v
	}
	return domain.DefaultDir
}

// openDirectory opens the domain kept in folder dir. The changes made
// through it are audited to DIR/audit.log, in the chain the KDC writes too;
// the returned function closes both (and reports on standard error events
// that could not be written, as it cannot fail the command any more).
func openDirectory(ctx context.Context, dir string) (*directory.Directory, func(), error) {
	d, err := domain.Open(ctx, dir, domain.OpenOptions{})
	if err != nil {
		return nil, nil, err
	}
	return d.Directory, func() {
		if err := d.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "hop: %v\n", err)
		}
	}, nil
}

// openDomain is openDirectory that also reads the domain record, which
// most commands need.
func openDomain(ctx context.Context, dir string) (*directory.Directory, *directory.Domain, func(), error) {
	d, done, err := openDirectory(ctx, dir)
	if err != nil {
		return nil, nil, nil, err
	}
	dom, err := d.Domain(ctx)
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return d, dom, done, nil
}

// MaxPasswordLen bounds a password (AD allows 256 characters).
const MaxPasswordLen = 256

// readPassword gets a password from file ("-" = standard input), from the
// terminal (asked twice when confirm), or from the first line of a
// standard input that is not a terminal. file is the command's
// --password-file; see readPasswordFlag for a flag of another name.
func (e *env) readPassword(file, prompt string, confirm bool) (string, error) {
	return e.readPasswordFlag("--password-file", file, prompt, confirm)
}

// readPasswordFlag is readPassword for a password file given with the flag
// named flagName, which its error without a password names.
func (e *env) readPasswordFlag(flagName, file, prompt string, confirm bool) (string, error) {
	var pw string
	switch {
	case file == "-":
		line, err := readLine(e.stdin)
		if err != nil {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		pw = line
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		pw = strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r")
	default:
		f, ok := e.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			line, err := readLine(e.stdin)
			if err != nil {
				return "", fmt.Errorf("no password given: use %s FILE (- for standard input), or type it at a terminal (%w)", flagName, err)
			}
			pw = line
			break
		}
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		pw = string(b)
		if confirm {
			fmt.Fprint(e.stderr, "Again: ")
			b2, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(e.stderr)
			if err != nil {
				return "", fmt.Errorf("read password: %w", err)
			}
			if string(b2) != pw {
				return "", errors.New("the two passwords differ; nothing was changed")
			}
		}
	}
	switch {
	case pw == "":
		return "", errors.New("the password is empty; choose a non-empty password")
	case len(pw) > MaxPasswordLen:
		return "", fmt.Errorf("the password is longer than %d bytes", MaxPasswordLen)
	case strings.ContainsRune(pw, 0):
		return "", errors.New("the password contains a NUL character")
	}
	return pw, nil
}

func readLine(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, 4096))
	line, err := br.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("standard input is empty")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
