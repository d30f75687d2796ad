package ui

import (
	"context"
	"fmt"
	"time"
)

// chart is the deliveries-per-hour bar chart of the last 24 hours, drawn
// on the server as SVG: no script, and a text alternative beside it.
type chart struct {
	Bars                       []bar
	Succeeded, Failed, Pending int
	Max                        int
	Summary                    string
	// Ticks are the y-axis labels.
	Ticks []tick
	From  time.Time
}

// bar is one hour: a stack of succeeded (bottom) and failed (top) in SVG
// coordinates, with its label for the x axis every few hours.
type bar struct {
	Hour                   time.Time
	Succeeded, Failed      int
	Pending                int
	X, W                   float64
	SucceededY, SucceededH float64
	FailedY, FailedH       float64
	Label                  string
	Title                  string
}

type tick struct {
	Y     float64
	Label string
}

// Chart geometry, in the SVG's viewBox units.
const (
	chartW, chartH = 720.0, 180.0
	plotLeft       = 36.0
	plotTop        = 8.0
	plotBottom     = 156.0
)

func (u *UI) loadChart(ctx context.Context, org int64) (chart, error) {
	now := u.cfg.Now().UTC()
	from := now.Truncate(time.Hour).Add(-23 * time.Hour)
	stats, err := u.cfg.Store.DeliveryStats(ctx, org, from)
	if err != nil {
		return chart{}, err
	}
	c := chart{From: from, Bars: make([]bar, 24)}
	for i := range c.Bars {
		c.Bars[i].Hour = from.Add(time.Duration(i) * time.Hour)
	}
	for _, s := range stats {
		i := int(s.Hour.Sub(from) / time.Hour)
		if i < 0 || i >= len(c.Bars) {
			continue
		}
		b := &c.Bars[i]
		b.Succeeded, b.Failed, b.Pending = s.Succeeded, s.Failed, s.Pending
		c.Succeeded += s.Succeeded
		c.Failed += s.Failed
		c.Pending += s.Pending
	}
	c.layout()
	return c, nil
}

// layout computes the bars' coordinates on a y scale rounded up to a
// "nice" number so the axis labels read well.
func (c *chart) layout() {
	for _, b := range c.Bars {
		c.Max = max(c.Max, b.Succeeded+b.Failed)
	}
	top := niceCeil(c.Max)
	plotH := plotBottom - plotTop
	slot := (chartW - plotLeft) / float64(len(c.Bars))
	for i := range c.Bars {
		b := &c.Bars[i]
		b.X = plotLeft + float64(i)*slot + slot*0.15
		b.W = slot * 0.7
		b.SucceededH = plotH * float64(b.Succeeded) / float64(top)
		b.SucceededY = plotBottom - b.SucceededH
		b.FailedH = plotH * float64(b.Failed) / float64(top)
		b.FailedY = b.SucceededY - b.FailedH
		if i%4 == 0 {
			b.Label = b.Hour.Format("15:04")
		}
		b.Title = fmt.Sprintf("%s UTC: %d succeeded, %d failed", b.Hour.Format("Jan 2 15:04"), b.Succeeded, b.Failed)
	}
	for _, v := range []int{0, top / 2, top} {
		c.Ticks = append(c.Ticks, tick{Y: plotBottom - plotH*float64(v)/float64(top), Label: fmt.Sprint(v)})
	}
	c.Summary = fmt.Sprintf("Deliveries per hour since %s: %d succeeded, %d failed, %d pending.",
		fmtTime(c.From), c.Succeeded, c.Failed, c.Pending)
	if c.Max > 0 {
		busiest := c.Bars[0]
		for _, b := range c.Bars {
			if b.Succeeded+b.Failed > busiest.Succeeded+busiest.Failed {
				busiest = b
			}
		}
		c.Summary += fmt.Sprintf(" The busiest hour, %s UTC, had %d.", busiest.Hour.Format("15:04"), busiest.Succeeded+busiest.Failed)
	}
}

// niceCeil rounds n up to 2, 4, 10, 20, 40, 100…: even, so the middle
// tick is a whole number too.
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	for step := 1; ; step *= 10 {
		for _, m := range []int{2, 4, 10} {
			if n <= m*step {
				return m * step
			}
		}
	}
}
