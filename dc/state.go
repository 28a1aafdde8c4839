package dc

import (
	"encoding/json"
	"os"

	"hop/internal/atomicfile"
)

// State is what a running server records in the domain folder's state
// file (kdc.json) once all its servers listen, and removes when it stops:
// where clients find it (hop client-config reads it).
type State struct {
	PID      int      `json:"pid"`
	Realm    string   `json:"realm"`
	Listen   []string `json:"listen"` // the KDC's UDP addresses (the same ports on TCP)
	Kpasswd  string   `json:"kpasswd,omitempty"`
	AdminURL string   `json:"admin_url,omitempty"`
	AdminPin string   `json:"admin_tls_pin,omitempty"` // the pin of the admin API's TLS key
	// AdminAddr is the address the admin API listens on (ADDR:PORT), for
	// clients to which AdminURL's name does not resolve.
	AdminAddr string `json:"admin_addr,omitempty"`
}

// ReadState reads the state file at path (see [domain.Folder.State]).
func ReadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func writeState(path string, st *State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o600)
}

// removeOwnState removes the state file at path if it still describes the
// process pid: another server on the same folder may have replaced it.
func removeOwnState(path string, pid int) {
	if st, err := ReadState(path); err == nil && st.PID == pid {
		os.Remove(path)
	}
}
