package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"hop/krb5"
	"hop/krb5/client"
)

func benchCommand() *command {
	return &command{
		name:    "bench",
		summary: "measure performance",
		subs: []*command{
			{name: "kdc", summary: "load a KDC (hop's, MIT's or Heimdal's) with AS or TGS requests",
				usage: "bench kdc --kdc ADDR:PORT --mode as|tgs --user USER[@REALM] --password-file FILE [--spn SPN] [--concurrency N] [--duration D] [--max-requests M] [--transport udp|tcp|auto] [--etypes LIST] [--json]",
				help: `Sends pre-authenticated AS requests (--mode as) or TGS requests for --spn
with one TGT (--mode tgs) to any RFC 4120 KDC on a loopback address, from
--concurrency workers, until --duration has passed or --max-requests have been
sent, whichever comes first. Every reply is checked as a client would (it
must decrypt with the right key and carry the request's nonce); anything else
counts as an error. Prints requests per second, errors and p50/p99 latency.`,
				run: runBenchKDC},
		},
	}
}

type benchResult struct {
	KDC         string  `json:"kdc"`
	Mode        string  `json:"mode"`
	Transport   string  `json:"transport"`
	Concurrency int     `json:"concurrency"`
	Requests    int64   `json:"requests"`
	OK          int64   `json:"ok"`
	Errors      int64   `json:"errors"`
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"requests_per_second"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	FirstError  string  `json:"first_error,omitempty"`
}

// Bench limits: every load loop is bounded in count and time.
const (
	maxBenchConcurrency = 1024
	maxBenchRequests    = 10_000_000
	maxBenchDuration    = 10 * time.Minute
)

func runBenchKDC(ctx context.Context, e *env, c *command, args []string) error {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	addr := fs.String("kdc", "", "the KDC's `ADDR:PORT` (loopback only)")
	mode := fs.String("mode", "as", "as or tgs")
	user := fs.String("user", "", "the client principal, `USER` or USER@REALM")
	realmFlag := fs.String("realm", "", "the realm, if --user has none")
	pwFile := fs.String("password-file", "", "the client's password `FILE` (- for standard input)")
	spn := fs.String("spn", "", "the service to ask tickets for in tgs mode, e.g. host/b.example.test")
	conc := fs.Int("concurrency", 8, "parallel workers")
	dur := fs.Duration("duration", 10*time.Second, "stop after this long")
	maxReq := fs.Int64("max-requests", 100000, "stop after this many requests")
	transport := fs.String("transport", "udp", "udp, tcp, or auto (udp, then tcp when the reply is too big)")
	var etypeNames stringList
	fs.Var(&etypeNames, "etypes", "encryption types to offer, strongest first (default: the four AES types); e.g. aes256-cts-hmac-sha1-96 to compare KDCs on equal terms")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if _, err := parse(e, fs, c, args, 0, 0); err != nil {
		return err
	}
	switch {
	case *addr == "":
		return usagef("%s: --kdc ADDR:PORT is required", c.path)
	case *user == "":
		return usagef("%s: --user is required", c.path)
	case *mode != "as" && *mode != "tgs":
		return usagef("%s: --mode must be as or tgs", c.path)
	case *mode == "tgs" && *spn == "":
		return usagef("%s: --mode tgs needs --spn SERVICE/HOST", c.path)
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
	p, err := krb5.ParsePrincipal(*user)
	if err != nil {
		return usagef("%s: --user: %v", c.path, err)
	}
	if p.Realm == "" {
		p.Realm = krb5.Realm(*realmFlag)
	}
	if p.Realm == "" {
		return usagef("%s: give the realm in --user (alice@EXAMPLE.TEST) or with --realm", c.path)
	}
	pw, err := e.readPassword(*pwFile, "Password for "+p.String()+": ", false)
	if err != nil {
		return err
	}

	// Set up once: learn the salt, derive the key, and (tgs) get the TGT.
	setup := client.Dial(*addr, tr, 5*time.Second)
	defer setup.Close()
	base := client.Request{Client: p, Options: krb5.OptForwardable, ETypes: etypes}
	info, err := setup.PreauthInfo(ctx, &base)
	if err != nil {
		return fmt.Errorf("bench setup: %w", err)
	}
	key, err := client.KeyFromPassword(p, pw, info)
	if err != nil {
		return fmt.Errorf("bench setup: %w", err)
	}
	var (
		tgt   *client.Credential
		sname krb5.PrincipalName
	)
	if *mode == "tgs" {
		if tgt, err = setup.LoginWithKey(ctx, &base, key); err != nil {
			return fmt.Errorf("bench setup: get a TGT: %w", err)
		}
		sp, err := krb5.ParsePrincipal(*spn)
		if err != nil {
			return usagef("%s: --spn: %v", c.path, err)
		}
		sname = sp.Name
	}

	res := runLoad(ctx, *conc, *dur, *maxReq, func(ctx context.Context, conn *client.Conn) error {
		if *mode == "as" {
			r := base
			_, err := conn.LoginWithKey(ctx, &r, key)
			return err
		}
		r := client.Request{Service: sname, Options: krb5.OptForwardable, ETypes: etypes}
		_, err := conn.ServiceTicket(ctx, tgt, &r)
		return err
	}, func() *client.Conn { return client.Dial(*addr, tr, 5*time.Second) })
	res.KDC, res.Mode, res.Transport, res.Concurrency = *addr, *mode, *transport, *conc
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "kdc %s  mode %s  transport %s  concurrency %d\n", res.KDC, res.Mode, res.Transport, res.Concurrency)
	fmt.Fprintf(e.stdout, "requests %d  ok %d  errors %d  in %.2fs\n", res.Requests, res.OK, res.Errors, res.Seconds)
	fmt.Fprintf(e.stdout, "%.0f requests/s  p50 %.3f ms  p99 %.3f ms\n", res.RPS, res.P50ms, res.P99ms)
	if res.FirstError != "" {
		fmt.Fprintf(e.stdout, "first error: %s\n", res.FirstError)
	}
	if res.OK == 0 {
		return errors.New("no request succeeded")
	}
	return nil
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
