// Package relay is a TCP relay that tests cut and restore, to make a real
// database unreachable for a while without stopping it: other tests and
// other people share the server.
package relay

import (
	"io"
	"net"
	"sync"
)

// Relay forwards connections from its address to a target.
type Relay struct {
	Addr   string // host:port, the same across Cut and Restore
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// Start relays a free port on 127.0.0.1 to target (host:port).
func Start(target string) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{Addr: ln.Addr().String(), target: target, conns: make(map[net.Conn]bool)}
	r.serve(ln)
	return r, nil
}

// Cut closes the listener and every relayed connection: the port refuses
// connections as if the database were gone.
func (r *Relay) Cut() {
	r.mu.Lock()
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
	for c := range r.conns {
		c.Close()
	}
	clear(r.conns)
	r.mu.Unlock()
	r.wg.Wait()
}

// Restore listens on the same address again.
func (r *Relay) Restore() error {
	ln, err := net.Listen("tcp", r.Addr)
	if err != nil {
		return err
	}
	r.serve(ln)
	return nil
}

// Close cuts for good.
func (r *Relay) Close() { r.Cut() }

func (r *Relay) serve(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				r.pipe(c)
			}()
		}
	}()
}

// pipe relays one connection until either side closes or Cut.
func (r *Relay) pipe(c net.Conn) {
	up, err := net.Dial("tcp", r.target)
	if err != nil {
		c.Close()
		return
	}
	r.mu.Lock()
	if r.ln == nil { // cut while dialling
		r.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	r.conns[c], r.conns[up] = true, true
	r.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.conns, up)
	r.mu.Unlock()
}
