package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// FaultMemory is how long a driver's CheckWrite keeps answering the last
// failed publish, unless a publish commits in the meantime. A small probe
// write can succeed while a publish cannot (on a full disk, one row fits
// in a page of the log already allocated where a batch does not), so the
// probe alone would call the service ready between two failed publishes.
// After this long without publishes the probe decides again: nothing else
// would end a 503 that keeps a load balancer from sending the publishes
// that would prove the database is back.
const FaultMemory = 5 * time.Second

// Faults remembers the last write that failed for want of the database
// (EUNAVAILABLE), for CheckWrite. The zero value remembers nothing.
type Faults struct {
	mu  sync.Mutex
	err error
	at  time.Time
}

// Record remembers err, the domain error a driver made of cause, if the
// database was unavailable. Other errors (a conflict, bad input) say
// nothing of the database's health, and neither does a caller that gave
// up: a publisher that hung up, or a write's own deadline on a busy node,
// must not take the node out of its load balancer.
func (f *Faults) Record(cause, err error) {
	if otw.ErrorCode(err) != otw.EUNAVAILABLE ||
		errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		return
	}
	f.mu.Lock()
	f.err, f.at = err, time.Now()
	f.mu.Unlock()
}

// Check is the shared part of a driver's CheckWrite: the last publish that
// failed for want of the database, if it is younger than FaultMemory, or
// else the first of the checks that fails, in order.
func (f *Faults) Check(checks ...func() error) error {
	if err := f.Recent(); err != nil {
		return err
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// Clear forgets the last failure: a publish has committed since.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.err = nil
	f.mu.Unlock()
}

// Recent returns the last failure if it is younger than FaultMemory.
func (f *Faults) Recent() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil || time.Since(f.at) > FaultMemory {
		return nil
	}
	return f.err
}

// The reasons a driver gives with EUNAVAILABLE, for a database that cannot
// serve now: a caller reads them in a 503's problem detail.
const (
	UnavailableDiskFull     = "the database is out of disk space"
	UnavailableDisk         = "the database cannot read or write its disk"
	UnavailableMemory       = "the database is out of memory"
	UnavailableReadOnly     = "the database is read-only"
	UnavailableLocked       = "the database is locked by another writer"
	UnavailableCannotOpen   = "the database file cannot be opened"
	UnavailableNoConnection = "the database has no connection to spare"
	UnavailableClosed       = "the database closed the connection"
	UnavailableStarting     = "the database is starting up"
	UnavailableNoAnswer     = "the database does not answer"
)
