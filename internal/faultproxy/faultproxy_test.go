package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// echoServer answers every line with the same line, on a loopback port.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T) *Proxy {
	t.Helper()
	p, err := New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

type client struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, p *Proxy) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial proxy: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c, bufio.NewReader(c)}
}

// roundTrip sends a line and reads the echo, within d.
func (c *client) roundTrip(line string, d time.Duration) (string, error) {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func mustEcho(t *testing.T, c *client, line string) {
	t.Helper()
	got, err := c.roundTrip(line, 2*time.Second)
	if err != nil || got != line {
		t.Fatalf("echo %q: got %q, %v", line, got, err)
	}
}

func TestForwards(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	mustEcho(t, c, "hello")
	mustEcho(t, c, strings.Repeat("x", 100<<10)) // more than one copy buffer
	if s := p.Stats(); s.Accepted != 1 || p.Live() != 1 {
		t.Fatalf("stats %+v, live %d", s, p.Live())
	}
}

// Cut closes the live connection and resets new ones; Restore lets new ones through.
func TestCutAndRestore(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	mustEcho(t, c, "before")

	p.Cut()
	if _, err := c.roundTrip("during", 2*time.Second); err == nil {
		t.Fatal("a connection live at the cut still works")
	} else if isTimeout(err) {
		t.Fatalf("the live connection hangs instead of failing: %v", err)
	}
	for i := 0; i < 3; i++ {
		// The listener accepts, then resets: the dial or the first exchange fails.
		d, err := net.DialTimeout("tcp", p.Addr(), time.Second)
		if err == nil {
			_, err = (&client{d, bufio.NewReader(d)}).roundTrip("refused", 2*time.Second)
			d.Close()
		}
		if err == nil || isTimeout(err) {
			t.Fatalf("a new connection during the cut: %v", err)
		}
	}
	waitFor(t, func() bool { return p.Stats().Refused == 3 })
	if s := p.Stats(); s.Cuts != 1 || s.Killed != 1 || s.Refused != 3 || p.Live() != 0 {
		t.Fatalf("stats %+v, live %d", s, p.Live())
	}

	p.Restore()
	mustEcho(t, dial(t, p), "after")
}

// Blackhole stalls a live connection without losing bytes; Restore delivers them.
func TestBlackholeStallsThenDelivers(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	mustEcho(t, c, "before")

	p.Blackhole()
	if _, err := c.roundTrip("held", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("blackholed connection answered or failed: %v", err)
	}
	fresh := dial(t, p)
	if _, err := fresh.roundTrip("new", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("new connection during the blackhole answered or failed: %v", err)
	}

	p.Restore()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := c.r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("the held line after restore: %q %v", got, err)
	}
	mustEcho(t, c, "after")
	_ = fresh.SetDeadline(time.Now().Add(2 * time.Second))
	if got, err := fresh.r.ReadString('\n'); err != nil || got != "new\n" {
		t.Fatalf("the held connection after restore: %q %v", got, err)
	}
	if s := p.Stats(); s.Blackholes != 1 || s.Killed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A cut during a blackhole closes the stalled connections.
func TestCutDuringBlackhole(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	mustEcho(t, c, "before")
	p.Blackhole()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.WriteString(c, "held\n")
	time.Sleep(50 * time.Millisecond)
	p.Cut()
	if _, err := c.r.ReadString('\n'); err == nil || isTimeout(err) {
		t.Fatalf("stalled connection after the cut: %v", err)
	}
	p.Restore()
	mustEcho(t, dial(t, p), "after")
}

func TestCloseEndsEverything(t *testing.T) {
	p := start(t)
	c := dial(t, p)
	mustEcho(t, c, "before")
	p.Blackhole()
	done := make(chan error, 1)
	go func() { done <- p.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	if _, err := c.roundTrip("x", time.Second); err == nil || isTimeout(err) {
		t.Fatalf("connection after Close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("the listener still accepts after Close")
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOnlyLoopback(t *testing.T) {
	for _, target := range []string{"10.0.0.1:5432", "192.0.2.1:5432", "example.com:5432", "[2001:db8::1]:5432", "nohost"} {
		if p, err := New(target); err == nil {
			p.Close()
			t.Errorf("New(%q) accepted a non-loopback target", target)
		}
	}
	for _, target := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1", "127.0.0.2:1"} {
		p, err := New(target)
		if err != nil {
			t.Errorf("New(%q): %v", target, err)
			continue
		}
		if host, _, _ := net.SplitHostPort(p.Addr()); host != "127.0.0.1" {
			t.Errorf("listens on %s", p.Addr())
		}
		p.Close()
	}
}

func TestForURL(t *testing.T) {
	p, proxied, err := ForURL("postgres://pg:secret@127.0.0.1:5432/db?sslmode=disable&search_path=t_1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	u, err := url.Parse(proxied)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != p.Addr() || p.Target() != "127.0.0.1:5432" {
		t.Fatalf("proxied %s via %s to %s", proxied, p.Addr(), p.Target())
	}
	if pw, _ := u.User.Password(); u.User.Username() != "pg" || pw != "secret" || u.Path != "/db" ||
		u.Query().Get("search_path") != "t_1" || u.Query().Get("sslmode") != "disable" {
		t.Fatalf("the rest of the URL changed: %s", proxied)
	}

	q, proxied, err := ForURL("postgresql://localhost/db")
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	if q.Target() != "localhost:5432" || !strings.HasPrefix(proxied, "postgresql://127.0.0.1:") {
		t.Fatalf("default port: %s → %s", q.Target(), proxied)
	}

	for _, bad := range []string{
		"postgres://db.example.com:5432/db",
		"postgres:///db?host=/var/run/postgresql",
		"postgres://127.0.0.1/db?host=10.0.0.1",
		"file:test.db",
		"postgres://10.1.2.3/db",
	} {
		if p, _, err := ForURL(bad); err == nil {
			p.Close()
			t.Errorf("ForURL(%q) accepted", bad)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 2s")
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
