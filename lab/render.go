package lab

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Write prints the report as the tables hop lab shows.
func Write(w io.Writer, r *Report) {
	who := "as root: each user's sessions ran as a local account of their own"
	if !r.Root {
		who = "as an ordinary user (reduced fidelity, below)"
	}
	fmt.Fprintf(w, "hop lab: the realm %s in %s, %s.\n", r.Realm, r.Dir, who)
	for _, f := range r.Fidelity {
		fmt.Fprintf(w, "  reduced fidelity: %s\n", f)
	}
	fmt.Fprintln(w)
	var hosts [][]string
	for _, h := range r.Hosts {
		hosts = append(hosts, []string{h.Name, h.Addr, h.Role})
	}
	table(w, []string{"host", "address", "role"}, hosts)
	fmt.Fprintln(w)
	var users [][]string
	for _, u := range r.Users {
		users = append(users, []string{u.Name, u.Kind, u.About})
	}
	table(w, []string{"user", "kind", "what makes it so"}, users)

	fmt.Fprintf(w, "\n1. The second hop by every method, for every user: A → B (a session on b.lab.test), then from it → C\n")
	fmt.Fprintf(w, "   (hop exec c.lab.test, and MIT kvno host/c.lab.test), measured.\n")
	for _, m := range r.Methods {
		admin := "no Domain Admin needed"
		if m.DomainAdmin {
			admin = "a Domain Admin had to act"
		}
		fmt.Fprintf(w, "\n%s: %s (the seed: %s; %s)\n", m.ID, m.Title, m.Seed, admin)
		fmt.Fprintf(w, "  $ %s\n", m.How)
		for _, a := range m.Configured {
			fmt.Fprintf(w, "  set up by %s: %s: %s\n", a.By, a.What, a.Command)
		}
		var rows [][]string
		for _, c := range m.Cells {
			rows = append(rows, []string{c.User, hopCell(c), kvnoCell(c, r.Kvno != ""), reachedCell(c), c.After.Summary})
		}
		table(w, []string{"user", "second hop: C saw", "kvno", "reached B (broker; scan)", "B after the session (tried)"}, rows)
	}

	fmt.Fprintf(w, "\nIn short (✓ the second hop worked; - the session on B was refused):\n")
	var head []string
	head = append(head, "method")
	if len(r.Methods) > 0 {
		for _, c := range r.Methods[0].Cells {
			head = append(head, c.User)
		}
	}
	head = append(head, "what reached B", "B after the session, as the user", "Domain Admin")
	var rows [][]string
	for _, m := range r.Methods {
		row := []string{m.ID}
		for _, c := range m.Cells {
			switch {
			case c.Session != "opened":
				row = append(row, "-")
			case c.SecondHop:
				row = append(row, "✓ "+strings.TrimSuffix(c.CSaw, "@"+r.Realm))
			default:
				row = append(row, "✗")
			}
		}
		c := primary(&m)
		after := "nothing"
		if c.After.AsUser {
			after = "yes (until " + clock(c.After.Until) + ")"
		}
		who := ""
		if c.User != firstUser(r) {
			who = " (" + c.User + ")"
		}
		row = append(row, orNothing(c.Reached)+who, after+who, yesNo(m.DomainAdmin))
		rows = append(rows, row)
	}
	table(w, head, rows)

	if len(r.Guard.Columns) > 0 {
		fmt.Fprintf(w, "\n2. A plain session, Remote Credential Guard and Restricted Admin, as the Remote Credential Guard document compares them (from the cells above)\n")
		var rows [][]string
		for _, row := range r.Guard.Rows {
			rows = append(rows, append([]string{row.Feature}, row.Cells...))
		}
		table(w, append([]string{""}, r.Guard.Columns...), rows)
	}
	if len(r.Beyond) > 0 {
		fmt.Fprintf(w, "\n3. What no original does\n")
		for _, d := range r.Beyond {
			mark := "✓"
			if !d.OK {
				mark = "✗ NOT AS PROMISED"
			}
			fmt.Fprintf(w, "\n%s %s (%.1fs)\n", mark, d.Title, d.Seconds)
			for _, s := range d.Steps {
				fmt.Fprintf(w, "    %s\n", s)
			}
		}
	}
	if r.Removed {
		fmt.Fprintf(w, "\nThe lab took %.1fs; everything it started is stopped and its folder removed (with --dir FOLDER it keeps its files, every command and its output in FOLDER/lab.log).\n", r.Seconds)
	} else {
		fmt.Fprintf(w, "\nThe lab took %.1fs. Every command and its output: %s/lab.log\n", r.Seconds, r.Dir)
	}
	if k := r.Keep; k != nil {
		fmt.Fprintf(w, "\nThe lab keeps running. As alice on A:\n")
		for _, e := range k.Env {
			fmt.Fprintf(w, "  export %s\n", e)
		}
		for _, c := range k.Commands {
			fmt.Fprintf(w, "  %s\n", c)
		}
		if k.SSHConfig != "" {
			fmt.Fprintf(w, "OpenSSH's ssh works too, with this ssh_config block:\n")
			for _, l := range strings.SplitAfter(strings.TrimSuffix(k.SSHConfig, "\n"), "\n") {
				fmt.Fprintf(w, "  %s", l)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Stop it with: %s\n", k.Down)
	}
}

// firstUser is the first user's name (the normal user).
func firstUser(r *Report) string {
	if len(r.Users) == 0 {
		return ""
	}
	return r.Users[0].Name
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// hopCell is the second hop's cell: whom C saw, or why not.
func hopCell(c Cell) string {
	switch {
	case c.Session != "opened":
		return "session refused: " + shorten(Brief(c.Session), 70)
	case c.SecondHop:
		return "✓ " + c.CSaw
	}
	return "✗ " + shorten(Brief(c.Reason), 70)
}

// Brief is a refusal's gist for a table: the KDC's rule and its words
// ("KDC: sensitive-user: sam is sensitive and cannot be delegated"), or
// the message without hop's and the host's prefixes.
func Brief(reason string) string {
	if i := strings.Index(reason, " refused ("); i >= 0 {
		rest := reason[i+len(" refused ("):]
		rule, after, ok := strings.Cut(rest, ")")
		if ok {
			rule, _, _ = strings.Cut(rule, ",")
			words := strings.TrimPrefix(after, ": ")
			if j := strings.IndexAny(words, ";("); j > 0 {
				words = words[:j]
			}
			return "KDC: " + rule + ": " + strings.TrimSpace(words)
		}
	}
	reason = strings.Replace(reason, " refused here, on this host: ", " refused: ", 1)
	for _, p := range []string{"refused: ", "hop: ", hostB + ": ", hostC + ": "} {
		reason = strings.TrimPrefix(reason, p)
	}
	return reason
}

func kvnoCell(c Cell, have bool) string {
	switch {
	case !have:
		return "(none)"
	case c.Kvno == nil:
		return ""
	case c.Kvno.OK:
		return "✓"
	}
	return "✗"
}

// reachedCell is what reached B, and whether the scan agreed.
func reachedCell(c Cell) string {
	if c.Session != "opened" {
		return ""
	}
	s := orNothing(c.Reached)
	switch {
	case c.Scan.Agrees && c.Scan.Bytes == 0:
		s += "; files agree (memory unread)"
	case c.Scan.Agrees:
		s += "; scan agrees"
	default:
		s += "; SCAN DISAGREES: " + strings.Join(append(append([]string{}, c.Scan.During...), c.Scan.After...), "; ")
	}
	return s
}

// table prints rows under head, in columns as wide as their widest cell.
func table(w io.Writer, head []string, rows [][]string) {
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("  ")
		for i, c := range cells {
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(head)
	for _, r := range rows {
		line(r)
	}
}
