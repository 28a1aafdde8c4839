package remote_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"hop/remote"
	"hop/remote/remotetest"
)

func TestEndpoints(t *testing.T) {
	f := newFixture(t)
	reply := `[{"name":"default","type":"default","allowed":true,"run_as":"","commands":null},
{"name":"dns-ops","type":"jea","allowed":true,"run_as":"hop-dns","commands":["/usr/sbin/rndc reload|status [NAME]"]},
{"name":"backup","type":"runas","allowed":false,"run_as":"svc-backup","future_field":1}]`
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host, EndpointsReply: []byte(reply)})
	c := dial(t, f, s)
	eps, err := c.Endpoints(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 3 || eps[0].Name != "default" || !eps[0].Allowed ||
		eps[1].Type != "jea" || eps[1].RunAs != "hop-dns" || len(eps[1].Commands) != 1 || eps[1].Commands[0] != "/usr/sbin/rndc reload|status [NAME]" ||
		eps[2].Name != "backup" || eps[2].Allowed || eps[2].RunAs != "svc-backup" {
		t.Fatalf("Endpoints = %+v", eps)
	}
	s.WaitEvent(t, "endpoints")

	// An agent that does not know the request.
	s2 := remotetest.Start(t, f.lab, remotetest.Config{Host: "c.example.test"})
	o := f.options(s2)
	o.HostKeys = remote.DirectoryHostKeys{Directory: directory{"c.example.test": {s2.HostKey}}}
	c2, err := remote.Dial(context.Background(), "c.example.test", o)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Endpoints(context.Background()); err == nil || !strings.Contains(err.Error(), "hop agent") {
		t.Fatalf("Endpoints from a server without endpoints@hop: %v", err)
	}
}

func TestEndpointRequest(t *testing.T) {
	f := newFixture(t)
	msg := "hop: no endpoint nope here; you may use: default, dns-ops\n"
	s := remotetest.Start(t, f.lab, remotetest.Config{Host: host, Endpoints: []string{"dns-ops"}, RefusedEndpointMessage: msg})
	c := dial(t, f, s)
	var out, errOut bytes.Buffer
	if code, err := c.Run(context.Background(), "echo in-endpoint", "dns-ops", nil, &out, &errOut); code != 0 || err != nil || out.String() != "in-endpoint\n" {
		t.Fatalf("dns-ops: %d %v %q %q", code, err, out.String(), errOut.String())
	}
	s.WaitEvent(t, "endpoint dns-ops")
	out.Reset()
	code, err := c.Run(context.Background(), "echo never", "nope", nil, &out, &errOut)
	var ee *remote.EndpointError
	if code != 255 || !errors.As(err, &ee) || !errors.Is(err, remote.ErrEndpoint) || ee.Endpoint != "nope" || !ee.Explained {
		t.Fatalf("refused endpoint: %d %v (%+v)", code, err, ee)
	}
	if !strings.Contains(errOut.String(), "you may use: default, dns-ops") || out.Len() != 0 {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	if !strings.Contains(err.Error(), "hop endpoints "+host) {
		t.Errorf("error %q does not say what to do", err)
	}
}
