// Throwaway capture relay: forwards Kerberos UDP datagrams and TCP
// (4-byte length framed) messages to a KDC and records every request and
// reply it carries.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

var (
	mu  sync.Mutex
	seq int
	out string
)

func save(label, dir string, b []byte) {
	mu.Lock()
	seq++
	n := seq
	mu.Unlock()
	name := filepath.Join(out, fmt.Sprintf("%03d-%s-%s.bin", n, label, dir))
	if err := os.WriteFile(name, b, 0o644); err != nil {
		log.Print(err)
	}
	log.Printf("saved %s (%d bytes)", name, len(b))
}

func udp(listen, target, label string) {
	pc, err := net.ListenPacket("udp", listen)
	if err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		req := append([]byte(nil), buf[:n]...)
		go func() {
			save(label+"-udp", "req", req)
			c, err := net.Dial("udp", target)
			if err != nil {
				log.Print(err)
				return
			}
			defer c.Close()
			c.Write(req)
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			rb := make([]byte, 65536)
			m, err := c.Read(rb)
			if err != nil {
				log.Print(err)
				return
			}
			save(label+"-udp", "rep", rb[:m])
			pc.WriteTo(rb[:m], addr)
		}()
	}
}

func readFrame(r io.Reader) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(l[:]))
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeFrame(w io.Writer, b []byte) error {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(b)))
	_, err := w.Write(append(l[:], b...))
	return err
}

func tcp(listen, target, label string) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			for {
				req, err := readFrame(c)
				if err != nil {
					return
				}
				save(label+"-tcp", "req", req)
				k, err := net.Dial("tcp", target)
				if err != nil {
					log.Print(err)
					return
				}
				writeFrame(k, req)
				rep, err := readFrame(k)
				k.Close()
				if err != nil {
					log.Print(err)
					return
				}
				save(label+"-tcp", "rep", rep)
				writeFrame(c, rep)
			}
		}()
	}
}

func main() {
	// -route label=listen>target[,udp|tcp|both]
	var routes multi
	flag.Var(&routes, "route", "label=listenaddr>targetaddr")
	flag.StringVar(&out, "out", ".", "output dir")
	flag.Parse()
	for _, r := range routes {
		label, rest, _ := strings.Cut(r, "=")
		l, t, _ := strings.Cut(rest, ">")
		go udp(l, t, label)
		go tcp(l, t, label)
	}
	select {}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }
