package audit

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// queryLog writes a log whose events are numbered by their Reason, so a
// test names the events it expects and their order.
func queryLog(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	a, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := func(m int) time.Time { return when.Add(time.Duration(m) * time.Minute) }
	for _, ev := range []Event{
		{Time: at(0), Type: "as.issued", Client: "alice@EXAMPLE.TEST", Service: "krbtgt/EXAMPLE.TEST@EXAMPLE.TEST", Reason: "1"},
		{Time: at(1), Type: "tgs.issued", Client: "bob@EXAMPLE.TEST", Service: "HTTP/web.example.test@EXAMPLE.TEST", Reason: "2"},
		{Time: at(2), Type: "tgsx", Client: "carol@OTHER.TEST", Reason: "3"},
		{Time: at(3), Type: "directory.account.set", Actor: "Administrator@EXAMPLE.TEST", Target: "alice", Reason: "4"},
		{Time: at(4), Type: "as.refused", Client: "ALICE@other.test", Reason: "5"},
		{Time: at(5), Type: "tgs", Client: "dave@EXAMPLE.TEST", Service: "host/alice@EXAMPLE.TEST", Reason: "6"},
	} {
		a.Emit(ev)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A line that does not decode is skipped.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("not json\n")
	f.Close()
	return path
}

func TestReadQuery(t *testing.T) {
	path := queryLog(t)
	for _, tc := range []struct {
		name string
		q    Query
		want []string
	}{
		{"all, oldest first", Query{}, []string{"1", "2", "3", "4", "5", "6"}},
		{"since is inclusive", Query{Since: when.Add(2 * time.Minute)}, []string{"3", "4", "5", "6"}},
		{"type and its subtypes", Query{Types: []string{"tgs"}}, []string{"2", "6"}},
		{"any of the types", Query{Types: []string{"as.refused", "directory"}}, []string{"4", "5"}},
		{"principal without realm: any realm, any case, as client or target", Query{Principals: []string{"Alice"}}, []string{"1", "4", "5"}},
		{"principal with realm: that realm, or names without one", Query{Principals: []string{"alice@example.test"}}, []string{"1", "4"}},
		{"principal as service", Query{Principals: []string{"HTTP/web.example.test"}}, []string{"2"}},
		{"principal as actor", Query{Principals: []string{"administrator"}}, []string{"4"}},
		{"any of the principals", Query{Principals: []string{"bob", "carol@OTHER.TEST"}}, []string{"2", "3"}},
		{"a name is not matched inside another", Query{Principals: []string{"host/alice"}}, []string{"6"}},
		{"limit keeps the newest, oldest first", Query{Limit: 2}, []string{"5", "6"}},
		{"limit after matching", Query{Principals: []string{"alice"}, Limit: 2}, []string{"4", "5"}},
		{"all filters", Query{Since: when.Add(time.Minute), Types: []string{"as"}, Principals: []string{"alice"}}, []string{"5"}},
		{"nothing matches", Query{Types: []string{"kpasswd"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, err := Read(context.Background(), path, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lines {
				ev, err := ParseLine(l)
				if err != nil {
					t.Fatalf("line %s: %v", l, err)
				}
				got = append(got, ev.Reason)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got events %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadKeepsLinesAsWritten(t *testing.T) {
	path := queryLog(t)
	lines, err := Read(context.Background(), path, Query{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	all := readLines(t, path)
	if len(lines) != 1 || string(lines[0]) != string(all[len(all)-2]) {
		t.Errorf("Read = %q, want the last event's line %q", lines, all[len(all)-2])
	}
}

func TestReadMissingLog(t *testing.T) {
	lines, err := Read(context.Background(), filepath.Join(t.TempDir(), "none.log"), Query{})
	if err != nil || len(lines) != 0 {
		t.Errorf("Read of a missing log = %q, %v; want no events", lines, err)
	}
}
