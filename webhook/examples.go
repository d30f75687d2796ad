package webhook

import (
	"embed"
	"io/fs"
)

//go:embed examples/*.json schemas/*.json
var files embed.FS

// Examples holds the platform's example of each event, one file per
// example (integration_message_status.json, case_resolved.json, …), and
// Schemas the JSON Schema (draft 2020-12) of each event type
// (<type>.json). The service sends its test events from these examples
// and validates what it is given against the same rules, so a receiver's
// tests can feed them to its handler as what will arrive.
var (
	Examples = sub("examples")
	Schemas  = sub("schemas")
)

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic("webhook: " + err.Error())
	}
	return f
}
