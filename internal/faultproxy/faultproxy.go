// Package faultproxy is a TCP proxy a test controls, to put a network fault between the
// server under test and its database: Cut closes every live connection and refuses new
// ones (the database went away), Blackhole stops every byte without closing anything (a
// network partition), and Restore heals either. It only ever listens on and forwards to
// loopback addresses.
//
// A test points the server's pool at the proxy by rewriting the database URL:
//
//	p, proxied, err := faultproxy.ForURL(dbURL) // dbURL names 127.0.0.1:5432
//	db, err := storage.Open(ctx, proxied, storage.Options{})
//	p.Cut()     // every query fails at once
//	p.Restore() // new connections reach the database again
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

type mode int

const (
	modeOpen mode = iota
	modeCut
	modeBlackhole
)

// Stats count what the proxy did since it started.
type Stats struct {
	// Accepted connections were forwarded (or held, while blackholed).
	Accepted int
	// Refused connections were reset right after accept, while cut.
	Refused int
	// Killed connections were live when Cut closed them.
	Killed int
	// Cuts and Blackholes count the faults injected.
	Cuts, Blackholes int
}

// Proxy forwards TCP connections from a loopback listener to a loopback target.
type Proxy struct {
	target string
	ln     net.Listener

	mu     sync.Mutex
	mode   mode
	healed chan struct{} // closed when a blackhole ends
	links  map[*link]struct{}
	closed bool
	stats  Stats

	wg sync.WaitGroup
}

// link is one proxied connection: the client's side and the target's.
type link struct {
	client   net.Conn
	upstream net.Conn // nil until dialled
	done     chan struct{}
	once     sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		_ = l.client.Close()
		if l.upstream != nil {
			_ = l.upstream.Close()
		}
	})
}

// New starts a proxy on 127.0.0.1 (a free port) that forwards to target, a host:port
// whose host is a loopback address or "localhost".
func New(target string) (*Proxy, error) {
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if !isLoopback(host) {
		return nil, fmt.Errorf("faultproxy: target %q is not a loopback address", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, ln: ln, healed: make(chan struct{}), links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// ForURL starts a proxy in front of the PostgreSQL server a postgres:// URL names and
// returns it with the URL rewritten to reach the database through it. The URL must name
// one loopback host (the port defaults to 5432) and no host in its query.
func ForURL(rawURL string) (*Proxy, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("faultproxy: database URL: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, "", fmt.Errorf("faultproxy: database URL: want postgres://, got %q", u.Scheme)
	}
	q := u.Query()
	for _, k := range []string{"host", "hostaddr", "port"} {
		if q.Has(k) {
			return nil, "", fmt.Errorf("faultproxy: database URL sets %q in its query; name the host in the URL", k)
		}
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, "", errors.New("faultproxy: database URL names no host (a Unix socket cannot be proxied)")
	}
	if port == "" {
		port = "5432"
	}
	p, err := New(net.JoinHostPort(host, port))
	if err != nil {
		return nil, "", err
	}
	proxied := *u
	proxied.Host = p.Addr()
	return p, proxied.String(), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the proxy's listen address, 127.0.0.1:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut closes every live connection and refuses new ones (they are reset at once) until
// Restore. To the server it looks like the database crashed or was restarted.
func (p *Proxy) Cut() {
	p.mu.Lock()
	if p.mode == modeBlackhole {
		close(p.healed)
		p.healed = make(chan struct{})
	}
	p.mode = modeCut
	p.stats.Cuts++
	links := p.takeLinks()
	p.stats.Killed += len(links)
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// Blackhole stops forwarding without closing anything: live connections stall, new ones
// are accepted and hear nothing, until Restore (or Cut). No byte is lost; what was sent
// meanwhile is delivered after Restore, as TCP retransmission does when a partition heals.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode != modeBlackhole {
		p.mode = modeBlackhole
		p.stats.Blackholes++
	}
}

// Restore ends a Cut or a Blackhole: new connections are forwarded again and stalled
// ones resume. Connections closed by Cut stay closed.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == modeBlackhole {
		close(p.healed)
		p.healed = make(chan struct{})
	}
	p.mode = modeOpen
}

// Stats returns the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Live is the number of connections currently proxied.
func (p *Proxy) Live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Close stops the listener, closes every connection and waits for the proxy's
// goroutines. It may be called more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.mode == modeBlackhole {
		close(p.healed)
		p.healed = make(chan struct{})
	}
	links := p.takeLinks()
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range links {
		l.close()
	}
	p.wg.Wait()
	return err
}

// takeLinks empties the set of live links; p.mu is held.
func (p *Proxy) takeLinks() []*link {
	out := make([]*link, 0, len(p.links))
	for l := range p.links {
		out = append(out, l)
	}
	clear(p.links)
	return out
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient accept error (too many files): back off briefly.
			time.Sleep(5 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		if p.closed || p.mode == modeCut {
			if !p.closed {
				p.stats.Refused++
			}
			p.mu.Unlock()
			reset(c)
			continue
		}
		l := &link{client: c, done: make(chan struct{})}
		p.links[l] = struct{}{}
		p.stats.Accepted++
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(l)
	}
}

// reset closes c with an RST rather than a FIN, as a refused connection would be.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (p *Proxy) serve(l *link) {
	defer p.wg.Done()
	defer p.forget(l)
	defer l.close()
	if !p.pass(l) { // a blackhole holds new connections before they reach the target
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		reset(l.client)
		return
	}
	p.mu.Lock()
	_, live := p.links[l]
	if live {
		l.upstream = up
	}
	p.mu.Unlock()
	if !live { // cut or closed while dialling
		_ = up.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(l, up, l.client); l.close() }()
	go func() { defer wg.Done(); p.pipe(l, l.client, up); l.close() }()
	wg.Wait()
}

func (p *Proxy) forget(l *link) {
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// pass waits while the proxy is blackholed; it reports false when l was closed.
func (p *Proxy) pass(l *link) bool {
	for {
		p.mu.Lock()
		m, healed := p.mode, p.healed
		_, live := p.links[l]
		p.mu.Unlock()
		if !live {
			return false
		}
		if m != modeBlackhole {
			return true
		}
		select {
		case <-healed:
		case <-l.done:
			return false
		}
	}
}

// pipe copies src to dst, holding every chunk while the proxy is blackholed.
func (p *Proxy) pipe(l *link, dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.pass(l) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil { // EOF or a closed side: the caller closes both
			return
		}
	}
}
