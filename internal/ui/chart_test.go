package ui

import (
	"math"
	"slices"
	"testing"
)

// The y axis fits the counts: 1-2-5 steps, and a top at the first step
// at or above the busiest hour, never a jump to the next power of ten.
func TestYScaleFitsTheCounts(t *testing.T) {
	for _, c := range []struct{ n, step, top int }{
		{0, 1, 1}, {1, 1, 1}, {2, 1, 2}, {5, 1, 5}, {6, 1, 6}, {7, 2, 8}, {11, 2, 12}, {12, 2, 12},
		{13, 5, 15}, {23, 5, 25}, {30, 5, 30}, {31, 10, 40}, {60, 10, 60}, {101, 20, 120}, {999, 200, 1000},
		{1001, 200, 1200}, {25000, 5000, 25000},
	} {
		step, top := yScale(c.n)
		if step != c.step || top != c.top {
			t.Errorf("yScale(%d) = step %d, top %d; want %d, %d", c.n, step, top, c.step, c.top)
		}
	}
}

// The chart labels every step from 0 to the top, and the busiest bar
// reaches the top when the count is a whole number of steps.
func TestChartTicks(t *testing.T) {
	c := chart{Bars: make([]bar, 24)}
	c.Bars[3].Succeeded, c.Bars[3].Failed = 4, 1
	c.layout()
	var labels []string
	for _, tk := range c.Ticks {
		labels = append(labels, tk.Label)
	}
	if want := []string{"0", "1", "2", "3", "4", "5"}; !slices.Equal(labels, want) {
		t.Errorf("ticks for a busiest hour of 5: %v, want %v", labels, want)
	}
	if b := c.Bars[3]; math.Abs(b.FailedY-plotTop) > 0.01 {
		t.Errorf("the busiest bar tops out at y %.1f, want the plot's top %.1f", b.FailedY, plotTop)
	}
}
