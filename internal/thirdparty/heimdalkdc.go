package thirdparty

import (
	"os"
	"path/filepath"
	"testing"
)

// HeimdalKDC is a throwaway realm served by Heimdal's KDC from the prefix of
// scripts/install-test-deps, made by scripts/heimdal-kdc: a second reference
// KDC, for tests and for benchmarks beside MIT's and hop's.
type HeimdalKDC struct {
	Dir   string // the realm's directory: kdc.conf, database, master key, kdc.log
	Addr  string // host:port it serves on UDP and TCP
	Realm string
	Conf  string // krb5.conf for clients (Dir/krb5.conf, same settings as Krb5Conf)

	script string
	env    []string
}

// StartHeimdalKDC is StartMITKDC with Heimdal's KDC: users (name ->
// password) must pre-authenticate, services (SPNs) get random keys, every key
// is of the AES types of Enctypes. The test is skipped when Heimdal's KDC is
// not installed, or fails under HOP_INTEROP=1.
func StartHeimdalKDC(t testing.TB, realm, addr string, users map[string]string, services []string) *HeimdalKDC {
	t.Helper()
	return startWithRetry(t, addr, func(addr string) (*HeimdalKDC, error) {
		return TryStartHeimdalKDC(t, realm, addr, users, services)
	})
}

// TryStartHeimdalKDC is StartHeimdalKDC on exactly addr, returning an error
// instead of failing the test when the KDC does not start.
func TryStartHeimdalKDC(t testing.TB, realm, addr string, users map[string]string, services []string) (*HeimdalKDC, error) {
	t.Helper()
	h := RequireHeimdal(t)
	if h.KDC == "" {
		missing(t, "Heimdal's KDC does not run from the prefix (HOP_HEIMDAL_KDC is not set)")
	}
	k := &HeimdalKDC{
		Dir: filepath.Join(t.TempDir(), "heimdal-kdc"), Addr: addr, Realm: realm,
		script: repoScript(t, "heimdal-kdc"),
		env: []string{
			"HOP_HEIMDAL_KDC=" + h.KDC,
			"HOP_HEIMDAL_KADMIN=" + h.Kadmin,
			"HOP_HEIMDAL_KSTASH=" + h.Kstash,
			"HOP_HEIMDAL_LD_LIBRARY_PATH=" + h.libDir(),
		},
	}
	t.Cleanup(func() { k.stop(t, t.Failed()) })
	conf, err := startScriptKDC(t, k.script, k.Dir, k.env, realm, addr, users, services)
	if err != nil {
		return nil, err
	}
	k.Conf = conf
	return k, nil
}

// Keytab exports principal's current keys (the keys do not change) into a
// new keytab file under t.TempDir() and returns its path.
func (k *HeimdalKDC) Keytab(t testing.TB, principal string) string {
	t.Helper()
	return scriptKeytab(t, k.script, k.Dir, k.env, principal)
}

// Stop stops the KDC now (t.Cleanup does it anyway); stopping twice is fine.
func (k *HeimdalKDC) Stop(t testing.TB) {
	t.Helper()
	k.stop(t, false)
}

// Log returns the KDC's log.
func (k *HeimdalKDC) Log() string {
	b, _ := os.ReadFile(filepath.Join(k.Dir, "kdc.log"))
	return string(b)
}

func (k *HeimdalKDC) stop(t testing.TB, showLog bool) {
	stopScriptKDC(t, k.script, k.Dir, k.env, showLog, k.Log, "kdc.pid", "--config-file="+filepath.Join(k.Dir, "kdc.conf"))
}
