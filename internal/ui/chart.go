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
	now := u.svc.Now().UTC()
	from := now.Truncate(time.Hour).Add(-23 * time.Hour)
	stats, err := u.svc.DeliveryStats(ctx, org, from)
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

// layout computes the bars' coordinates on a y scale that ends at the
// first tick at or above the busiest hour, so the tallest bar is nearly
// full height and the axis labels read well.
func (c *chart) layout() {
	for _, b := range c.Bars {
		c.Max = max(c.Max, b.Succeeded+b.Failed)
	}
	step, top := yScale(c.Max)
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
	for v := 0; v <= top; v += step {
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

// maxTickSteps is the most steps between 0 and the top of the y axis:
// more labels would crowd the chart's 148 units of height.
const maxTickSteps = 6

// yScale picks the y axis for a busiest hour of n deliveries: the
// smallest step of 1, 2 or 5 times a power of ten that reaches n in at
// most maxTickSteps steps, and the top, the first multiple of the step at
// or above n. So 5 gives 0 to 5 by 1, 7 gives 0 to 8 by 2, 23 gives 0 to
// 25 by 5 and 101 gives 0 to 120 by 20: whole numbers, and a top close
// above the data. An empty chart has the axis 0 to 1.
func yScale(n int) (step, top int) {
	n = max(n, 1)
	for pow := 1; ; pow *= 10 {
		for _, m := range []int{1, 2, 5} {
			step = m * pow
			if steps := (n + step - 1) / step; steps <= maxTickSteps {
				return step, steps * step
			}
		}
	}
}
