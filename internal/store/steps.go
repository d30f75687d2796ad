package store

import "context"

// DeleteStep is how many events one step of a bulk removal takes: small
// enough that each step's transaction is short and a publish never waits
// long behind it.
const DeleteStep = 500

// InSteps runs step until it removes nothing or fails: a bulk removal as
// a series of short transactions.
func InSteps(ctx context.Context, step func() (int, error)) error {
	for {
		n, err := step()
		if err != nil || n == 0 {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
