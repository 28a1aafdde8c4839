package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"hop/krb5"
	"hop/krb5/client"
	"hop/krb5/crypto"
	"hop/krb5/keytab"
)

func benchCommand() *command {
	return &command{
		name:    "bench",
		summary: "measure performance",
		subs: []*command{
			{name: "kdc", summary: "load a KDC (hop's, MIT's or Heimdal's) with AS, TGS or S4U requests and measure its CPU time per request",
				usage: "bench kdc --kdc ADDR:PORT [--mode as|tgs|s4u|s4u-self] [--user USER[@REALM]] [--password-file FILE | --keytab FILE] [--spn SPN] [--impersonate USER[@REALM]] [--service-principal PRINCIPAL] [--s4u-padata both|for-user|x509] [--kdc-pid PID[,PID...]] [--concurrency N] [--duration D] [--max-requests M] [--transport udp|tcp|auto] [--etypes LIST] [--realm REALM] [--json]",
				help: `Loads any RFC 4120 KDC on a loopback address from --concurrency workers,
until --duration has passed or --max-requests operations have been started,
whichever comes first. The modes:

  as        pre-authenticated AS requests for --user: one exchange each.
  tgs       TGS requests for --spn with one TGT of --user: one exchange each.
  s4u       protocol transition, then constrained delegation: with the
            service's TGT, S4U2Self for --impersonate, then S4U2Proxy to --spn
            with the S4U2Self ticket as evidence in additional-tickets (asked
            as the credential broker of the agent asks S4U2Proxy: classic
            constrained delegation, resource-based as the fallback). One
            operation is 2 TGS exchanges, and every figure (requests, ok,
            rates, latency, CPU per request) is per operation.
  s4u-self  the S4U2Self exchange alone: one exchange each (for a KDC that
            cannot do S4U2Proxy, such as MIT krb5kdc with its DB2 database).

The client of as and tgs authenticates with the password in --password-file or
with its key in --keytab. In the s4u modes the service authenticates with its
key in --keytab: the principal --service-principal, else --user, else the
keytab's first. The TGT (tgs and the s4u modes) is got once, before the timed
window. Every reply is checked as a client would: it must decrypt with the
right key and carry the request's nonce and the names asked for (an S4U reply
must name the impersonated user); anything else counts as an error.

--kdc-pid names the KDC's processes, its workers included (MIT's krb5kdc -w N
and Heimdal's kdc fork them): the CPU time they use in the timed window (user
and system, with that of children they have waited for, from /proc/PID/stat)
is reported in total and per successful request, next to the CPU time of this
load generator itself. Prints requests per second, errors and p50/p99
latency; --json prints the same as one JSON object.`,
				run: runBenchKDC},
		},
	}
}

type benchResult struct {
	KDC         string   `json:"kdc"`
	Mode        string   `json:"mode"`
	Transport   string   `json:"transport"`
	Concurrency int      `json:"concurrency"`
	ETypes      []string `json:"etypes,omitempty"`
	// ExchangesPerRequest is how many KDC exchanges one request (an
	// operation) is: 2 in s4u mode, else 1.
	ExchangesPerRequest int     `json:"exchanges_per_request"`
	Requests            int64   `json:"requests"`
	OK                  int64   `json:"ok"`
	Errors              int64   `json:"errors"`
	Seconds             float64 `json:"seconds"`
	RPS                 float64 `json:"requests_per_second"`
	P50ms               float64 `json:"p50_ms"`
	P99ms               float64 `json:"p99_ms"`
	// The CPU time of the --kdc-pid processes in the timed window, in
	// total and per successful request; absent without --kdc-pid.
	KDCPids          []int    `json:"kdc_pids,omitempty"`
	KDCCPUSeconds    *float64 `json:"kdc_cpu_seconds,omitempty"`
	KDCCPUPerRequest *float64 `json:"kdc_cpu_us_per_request,omitempty"`
	// The load generator's own CPU time (getrusage RUSAGE_SELF) in the
	// same window.
	GeneratorCPUSeconds    float64  `json:"generator_cpu_seconds"`
	GeneratorCPUPerRequest *float64 `json:"generator_cpu_us_per_request,omitempty"`
	FirstError             string   `json:"first_error,omitempty"`
}

// Bench limits: every load loop is bounded in count and time.
const (
	maxBenchConcurrency = 1024
	maxBenchRequests    = 10_000_000
	maxBenchDuration    = 10 * time.Minute
	maxBenchPids        = 256
)

// benchModes are the modes of hop bench kdc and the KDC exchanges one
// operation of each takes.
var benchModes = map[string]int{"as": 1, "tgs": 1, "s4u": 2, "s4u-self": 1}

func runBenchKDC(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	addr := fs.String("kdc", "", "the KDC's `ADDR:PORT` (loopback only)")
	mode := fs.String("mode", "as", "as, tgs, s4u (S4U2Self then S4U2Proxy: 2 exchanges per operation) or s4u-self")
	user := fs.String("user", "", "the client principal, `USER` or USER@REALM")
	realmFlag := fs.String("realm", "", "the `REALM`, if --user (or --service-principal) has none")
	pwFile := fs.String("password-file", "", "the client's password `FILE` (- for standard input)")
	ktFile := fs.String("keytab", "", "a keytab `FILE` holding the client's key (in the s4u modes: the service's key)")
	spn := fs.String("spn", "", "the service to ask tickets for in tgs mode, and to delegate to in s4u mode, e.g. host/b.example.test")
	svcFlag := fs.String("service-principal", "", "in the s4u modes: the service's `PRINCIPAL`, whose key is in --keytab (default: --user, else the keytab's first principal)")
	impersonate := fs.String("impersonate", "", "in the s4u modes: the `USER` (or USER@REALM) to get tickets for")
	padata := fs.String("s4u-padata", "both", "the padata of S4U2Self: both (PA-FOR-USER and PA-S4U-X509-USER, as MIT's client sends), for-user or x509")
	var pidList stringList
	fs.Var(&pidList, "kdc-pid", "the KDC's process id `PID`, or several comma separated (its workers too): report their CPU time per request")
	conc := fs.Int("concurrency", 8, "parallel workers")
	dur := fs.Duration("duration", 10*time.Second, "stop after this long")
	maxReq := fs.Int64("max-requests", 100000, "stop after this many requests (operations)")
	transport := fs.String("transport", "udp", "udp, tcp, or auto (udp, then tcp when the reply is too big)")
	var etypeNames stringList
	fs.Var(&etypeNames, "etypes", "encryption types to offer, strongest first (default: the four AES types); e.g. aes256-cts-hmac-sha1-96 to compare KDCs on equal terms")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	exchanges, knownMode := benchModes[*mode]
	s4u := *mode == "s4u" || *mode == "s4u-self"
	switch {
	case *addr == "":
		return usagef("%s: --kdc ADDR:PORT is required", c.path)
	case !knownMode:
		return usagef("%s: --mode must be as, tgs, s4u or s4u-self", c.path)
	case s4u && *ktFile == "":
		return usagef("%s: --mode %s needs --keytab FILE with the service's key (and --impersonate USER)", c.path, *mode)
	case s4u && *impersonate == "":
		return usagef("%s: --mode %s needs --impersonate USER: the user to get tickets for", c.path, *mode)
	case s4u && *pwFile != "":
		return usagef("%s: in --mode %s the service authenticates with its key in --keytab, not with --password-file", c.path, *mode)
	case !s4u && (*impersonate != "" || *svcFlag != ""):
		return usagef("%s: --impersonate and --service-principal are for --mode s4u and s4u-self", c.path)
	case !s4u && *user == "":
		return usagef("%s: --user is required", c.path)
	case *pwFile != "" && *ktFile != "":
		return usagef("%s: give either --password-file or --keytab, not both", c.path)
	case (*mode == "tgs" || *mode == "s4u") && *spn == "":
		return usagef("%s: --mode %s needs --spn SERVICE/HOST", c.path, *mode)
	case *padata != "both" && *padata != "for-user" && *padata != "x509":
		return usagef("%s: --s4u-padata must be both, for-user or x509", c.path)
	case *conc < 1 || *conc > maxBenchConcurrency:
		return usagef("%s: --concurrency must be 1..%d", c.path, maxBenchConcurrency)
	case *dur <= 0 || *dur > maxBenchDuration:
		return usagef("%s: --duration must be positive and at most %s", c.path, maxBenchDuration)
	case *maxReq < 1 || *maxReq > maxBenchRequests:
		return usagef("%s: --max-requests must be 1..%d", c.path, maxBenchRequests)
	}
	if err := requireLoopback(*addr); err != nil {
		return usagef("%s: %v", c.path, err)
	}
	pids, err := parsePids(pidList)
	if err != nil {
		return usagef("%s: %v", c.path, err)
	}
	if _, err := pidsCPU(pids); err != nil {
		return usagef("%s: %v", c.path, err)
	}
	var etypes []krb5.EncType
	for _, n := range etypeNames {
		e, err := krb5.ParseEncType(n)
		if err != nil {
			return usagef("%s: --etypes: %v", c.path, err)
		}
		etypes = append(etypes, e)
	}
	tr, err := client.ParseTransport(*transport)
	if err != nil {
		return usagef("%s: %v", c.path, err)
	}
	var kt *keytab.Keytab
	if *ktFile != "" {
		if kt, err = keytab.Load(*ktFile); err != nil {
			return err
		}
	}

	// The client: --user, or in the s4u modes the service.
	name := *user
	if s4u && *svcFlag != "" {
		name = *svcFlag
	}
	if name == "" {
		if len(kt.Entries) == 0 {
			return fmt.Errorf("%s: the keytab %s is empty", c.path, *ktFile)
		}
		name = kt.Entries[0].Principal.String()
	}
	p, err := krb5.ParsePrincipal(name)
	if err != nil {
		return usagef("%s: %s: %v", c.path, name, err)
	}
	if p.Realm == "" {
		p.Realm = krb5.Realm(*realmFlag)
	}
	if p.Realm == "" {
		return usagef("%s: give the realm in the principal (alice@EXAMPLE.TEST) or with --realm", c.path)
	}
	var imp krb5.Principal
	if s4u {
		if imp, err = krb5.ParsePrincipal(*impersonate); err != nil {
			return usagef("%s: --impersonate: %v", c.path, err)
		}
		if imp.Realm == "" {
			imp.Realm = p.Realm
		}
	}
	var target krb5.Principal
	if *spn != "" {
		if target, err = krb5.ParsePrincipal(*spn); err != nil {
			return usagef("%s: --spn: %v", c.path, err)
		}
	}
	pad := map[string]client.S4UPAData{"both": client.S4UBoth, "for-user": client.S4UForUser, "x509": client.S4UX509User}[*padata]

	// Set up once, untimed: the client's key and (but in as mode) its TGT.
	setup := client.Dial(*addr, tr, 5*time.Second)
	defer setup.Close()
	base := client.Request{Client: p, Options: krb5.OptForwardable, ETypes: etypes}
	var key *crypto.Key
	if kt != nil {
		if key, base.ETypes, err = benchKeytabKey(kt, *ktFile, p, etypes); err != nil {
			return err
		}
	} else {
		pw, err := e.readPassword(*pwFile, "Password for "+p.String()+": ", false)
		if err != nil {
			return err
		}
		info, err := setup.PreauthInfo(ctx, &base)
		if err != nil {
			return fmt.Errorf("bench setup: %w", err)
		}
		if key, err = client.KeyFromPassword(p, pw, info); err != nil {
			return fmt.Errorf("bench setup: %w", err)
		}
	}
	var tgt *client.Credential
	if *mode != "as" {
		if tgt, err = setup.LoginWithKey(ctx, &base, key); err != nil {
			return fmt.Errorf("bench setup: get a TGT for %s: %w", p, err)
		}
	}

	var op func(context.Context, *client.Conn) error
	switch *mode {
	case "as":
		op = func(ctx context.Context, conn *client.Conn) error {
			r := base
			_, err := conn.LoginWithKey(ctx, &r, key)
			return err
		}
	case "tgs":
		op = func(ctx context.Context, conn *client.Conn) error {
			r := client.Request{Service: target.Name, Realm: target.Realm, Options: krb5.OptForwardable, ETypes: etypes}
			_, err := conn.ServiceTicket(ctx, tgt, &r)
			return err
		}
	case "s4u", "s4u-self":
		proxy := *mode == "s4u"
		op = func(ctx context.Context, conn *client.Conn) error {
			u := imp
			ev, err := conn.ServiceTicket(ctx, tgt, &client.Request{Impersonate: &u, S4UPAData: pad, Options: krb5.OptForwardable, ETypes: etypes})
			if err != nil {
				return fmt.Errorf("S4U2Self: %w", err)
			}
			// ServiceTicket checked the reply's names and nonce, and that
			// it names the user; say so here too, as the bench's contract.
			if !samePrincipal(ev.Client, imp) || !samePrincipal(ev.Server, p) {
				return fmt.Errorf("S4U2Self: a ticket for %s to %s, asked for %s to %s", ev.Client, ev.Server, imp, p)
			}
			if !proxy {
				return nil
			}
			// As the broker asks (broker.Constrained): classic constrained
			// delegation, with resource-based as the fallback.
			st, err := conn.ServiceTicket(ctx, tgt, &client.Request{Service: target.Name, Realm: target.Realm, Evidence: ev, ResourceBased: true, ETypes: etypes})
			if err != nil {
				return fmt.Errorf("S4U2Proxy: %w", err)
			}
			if !samePrincipal(st.Client, imp) || !st.Server.Name.Equal(target.Name) {
				return fmt.Errorf("S4U2Proxy: a ticket for %s to %s, asked for %s to %s", st.Client, st.Server, imp, target)
			}
			return nil
		}
	}

	kdcBefore, err := pidsCPU(pids)
	if err != nil {
		return fmt.Errorf("%s: before the run: %w (a KDC process ended)", c.path, err)
	}
	genBefore := selfCPU()
	res := runLoad(ctx, *conc, *dur, *maxReq, op, func() *client.Conn { return client.Dial(*addr, tr, 5*time.Second) })
	genCPU := selfCPU() - genBefore
	kdcAfter, err := pidsCPU(pids)
	if err != nil {
		return fmt.Errorf("%s: after the run: %w (a KDC process ended during it)", c.path, err)
	}
	res.KDC, res.Mode, res.Transport, res.Concurrency, res.ExchangesPerRequest = *addr, *mode, *transport, *conc, exchanges
	for _, e := range etypes {
		res.ETypes = append(res.ETypes, e.String())
	}
	res.GeneratorCPUSeconds = genCPU.Seconds()
	res.GeneratorCPUPerRequest = perRequest(genCPU, res.OK)
	if len(pids) > 0 {
		d := kdcAfter - kdcBefore
		s := d.Seconds()
		res.KDCPids, res.KDCCPUSeconds, res.KDCCPUPerRequest = pids, &s, perRequest(d, res.OK)
	}
	if *asJSON {
		if err := printJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		printBench(e.stdout, &res)
	}
	if res.OK == 0 {
		return errors.New("no request succeeded")
	}
	return nil
}

// printBench prints res as text.
func printBench(w io.Writer, res *benchResult) {
	unit, how := "requests", ""
	if res.ExchangesPerRequest > 1 {
		unit, how = "operations", fmt.Sprintf(" (%d KDC exchanges per operation)", res.ExchangesPerRequest)
	}
	per := strings.TrimSuffix(unit, "s")
	fmt.Fprintf(w, "kdc %s  mode %s%s  transport %s  concurrency %d\n", res.KDC, res.Mode, how, res.Transport, res.Concurrency)
	fmt.Fprintf(w, "%s %d  ok %d  errors %d  in %.2fs\n", unit, res.Requests, res.OK, res.Errors, res.Seconds)
	fmt.Fprintf(w, "%.0f %s/s  p50 %.3f ms  p99 %.3f ms\n", res.RPS, unit, res.P50ms, res.P99ms)
	cpu := func(who string, s float64, us *float64) {
		fmt.Fprintf(w, "%s CPU %.3f s", who, s)
		if us != nil {
			fmt.Fprintf(w, " = %.1f µs per successful %s", *us, per)
		}
		fmt.Fprintln(w)
	}
	if res.KDCCPUSeconds != nil {
		pids := make([]string, len(res.KDCPids))
		for i, p := range res.KDCPids {
			pids[i] = strconv.Itoa(p)
		}
		cpu("kdc (pid "+strings.Join(pids, ",")+")", *res.KDCCPUSeconds, res.KDCCPUPerRequest)
	}
	cpu("generator", res.GeneratorCPUSeconds, res.GeneratorCPUPerRequest)
	if res.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", res.FirstError)
	}
}

func samePrincipal(a, b krb5.Principal) bool { return a.Name.Equal(b.Name) && a.Realm.Equal(b.Realm) }

// perRequest is d in microseconds per successful request; nil when none
// succeeded.
func perRequest(d time.Duration, ok int64) *float64 {
	if ok <= 0 {
		return nil
	}
	us := float64(d.Microseconds()) / float64(ok)
	return &us
}

// benchKeytabKey returns p's newest key in kt of the first of the offered
// types (default: client.DefaultETypes) that kt holds, and the offered types
// with that one first, so that the KDC seals its AS reply with that key.
func benchKeytabKey(kt *keytab.Keytab, path string, p krb5.Principal, offered []krb5.EncType) (*crypto.Key, []krb5.EncType, error) {
	if len(offered) == 0 {
		offered = client.DefaultETypes
	}
	for _, e := range offered {
		ent, err := kt.Find(p, 0, e)
		if err != nil {
			continue
		}
		key, err := crypto.NewKey(ent.EncType, ent.Key)
		clear(ent.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("the keytab %s: key of %s: %w", path, p, err)
		}
		order := append([]krb5.EncType{e}, slices.DeleteFunc(slices.Clone(offered), func(x krb5.EncType) bool { return x == e })...)
		return key, order, nil
	}
	var names []string
	for _, e := range offered {
		names = append(names, e.String())
	}
	return nil, nil, fmt.Errorf("the keytab %s holds no key of %s of the types offered (%s)", path, p, strings.Join(names, ", "))
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// Linux, on every architecture (the kernel converts to it whatever its own
// HZ; sysconf(_SC_CLK_TCK) returns it).
const clockTicks = 100

// parsePids reads the --kdc-pid list.
func parsePids(list []string) ([]int, error) {
	if len(list) > maxBenchPids {
		return nil, fmt.Errorf("--kdc-pid: at most %d processes", maxBenchPids)
	}
	var pids []int
	for _, s := range list {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("--kdc-pid %q: want process ids, e.g. --kdc-pid 1234 or --kdc-pid 1234,1240", s)
		}
		if !slices.Contains(pids, n) {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// pidsCPU is the sum of procCPU over pids.
func pidsCPU(pids []int) (time.Duration, error) {
	var total time.Duration
	for _, pid := range pids {
		d, err := procCPU(pid)
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total, nil
}

// procCPU returns the CPU time process pid has used: user and system time,
// its own (utime, stime) and that of the children it has waited for
// (cutime, cstime): fields 14 to 17 of /proc/PID/stat (proc(5)).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("--kdc-pid %d: no such process", pid)
	}
	if err != nil {
		return 0, fmt.Errorf("--kdc-pid %d: %w", pid, err)
	}
	d, err := parseProcStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("--kdc-pid %d: /proc/%d/stat: %w", pid, pid, err)
	}
	return d, nil
}

// parseProcStat reads utime+stime+cutime+cstime from a /proc/PID/stat line.
func parseProcStat(s string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces
	// and parentheses itself: the other fields follow the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("no command name in parentheses")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): fields 14-17 are f[11:15].
	if len(f) < 15 {
		return 0, fmt.Errorf("%d fields, want at least 17", len(f)+2)
	}
	var ticks int64
	for _, x := range f[11:15] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("CPU time %q is not a number of clock ticks", x)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / clockTicks), nil
}

// selfCPU returns this process's user and system CPU time (getrusage
// RUSAGE_SELF); 0 if it cannot be read.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runLoad runs op from conc workers until d has passed or max requests have
// been started, and summarises latencies.
func runLoad(ctx context.Context, conc int, d time.Duration, max int64, op func(context.Context, *client.Conn) error, dial func() *client.Conn) benchResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		started, failed atomic.Int64
		firstErr        atomic.Value
		wg              sync.WaitGroup
		lat             = make([][]time.Duration, conc)
	)
	begin := time.Now()
	deadline, _ := ctx.Deadline()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := dial()
			defer conn.Close()
			for time.Now().Before(deadline) && started.Add(1) <= max {
				t0 := time.Now()
				err := op(ctx, conn)
				if err != nil {
					if !time.Now().Before(deadline) {
						started.Add(-1) // cut off by the deadline, not an answer
						return
					}
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	n := started.Load()
	if n > max {
		n = max
	}
	r := benchResult{Requests: n, OK: int64(len(all)), Errors: failed.Load(), Seconds: elapsed.Seconds()}
	r.RPS = float64(r.OK) / elapsed.Seconds()
	if len(all) > 0 {
		r.P50ms = float64(all[len(all)/2]) / 1e6
		r.P99ms = float64(all[len(all)*99/100]) / 1e6
	}
	if v := firstErr.Load(); v != nil {
		r.FirstError = v.(string)
	}
	return r
}

// requireLoopback refuses targets that are not loopback addresses: the load
// generator must not be pointed at someone else's KDC.
func requireLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--kdc %q: want ADDR:PORT", addr)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("--kdc %q is not a loopback address; hop bench only loads KDCs on this machine (127.0.0.0/8 or ::1)", addr)
	}
	return nil
}
