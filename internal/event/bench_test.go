package event

import (
	"strings"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{imsFile, failedFile, caseFile} {
		in := []byte(example(b, name))
		b.Run(strings.TrimSuffix(name, ".json"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, err := Parse(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseBatch parses a batch of MaxBatchLen events, the three
// examples in turn.
func BenchmarkParseBatch(b *testing.B) {
	examples := []string{example(b, imsFile), example(b, caseFile), example(b, failedFile)}
	events := make([]string, MaxBatchLen)
	for i := range events {
		events[i] = examples[i%len(examples)]
	}
	in := []byte(batchOf(events...))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseBatch(in); err != nil {
			b.Fatal(err)
		}
	}
}
