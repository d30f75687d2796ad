package ui

import (
	"net/url"
	"slices"
	"strings"

	"github.com/onetalk/onetalk-webhooks/internal/event"
	"github.com/onetalk/onetalk-webhooks/internal/otw"
)

// The form's Filters section: per event type, a text field per filterable
// field of its payload, taking the values the field may take separated by
// commas (a value cannot hold a comma here; the API takes any). An empty
// field is no condition.

// filterGroup is one event type's filter fields in the form.
type filterGroup struct {
	Type   string
	Open   bool // something is set or wrong: shown unfolded
	Error  string
	Fields []filterInput
}

// filterInput is one field's text input.
type filterInput struct {
	Path, Name, ID string
	Value          string // the values as typed, or as saved joined by ", "
	Hint           string
	Error          string
}

// filterName is the form field of a type's field path.
func filterName(eventType, path string) string { return "filter." + eventType + "." + path }

func filterGroups(values func(eventType, path string) string) []filterGroup {
	var groups []filterGroup
	for _, t := range event.Types() {
		g := filterGroup{Type: t.Name}
		for _, f := range event.FilterableFields(t.Name) {
			in := filterInput{Path: f.Path, Name: filterName(t.Name, f.Path),
				ID: "filter-" + t.Name + "-" + strings.ReplaceAll(f.Path, ".", "-"), Value: values(t.Name, f.Path)}
			if f.Enum != nil {
				in.Hint = "One or more of " + strings.Join(f.Enum, ", ")
			}
			g.Open = g.Open || in.Value != ""
			g.Fields = append(g.Fields, in)
		}
		groups = append(groups, g)
	}
	return groups
}

// parseFilterForm reads the posted filter fields: the groups to show again
// and the API's filters member (nil when every field is empty).
func parseFilterForm(form url.Values) ([]filterGroup, map[string]map[string][]string) {
	var filters map[string]map[string][]string
	groups := filterGroups(func(eventType, path string) string {
		typed := strings.TrimSpace(form.Get(filterName(eventType, path)))
		var values []string
		for _, v := range strings.Split(typed, ",") {
			if v = strings.TrimSpace(v); v != "" && !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		if len(values) > 0 {
			if filters == nil {
				filters = map[string]map[string][]string{}
			}
			if filters[eventType] == nil {
				filters[eventType] = map[string][]string{}
			}
			filters[eventType][path] = values
		}
		return typed
	})
	return groups, filters
}

// savedFilterGroups fills the groups with what the webhook has saved.
func savedFilterGroups(f otw.Filters) []filterGroup {
	return filterGroups(func(eventType, path string) string { return strings.Join(f[eventType][path], ", ") })
}

// markFilterErrors puts the API's messages (by field, see fieldErrors)
// beside the group or input they name.
func markFilterErrors(groups []filterGroup, errs map[string]string) {
	for i := range groups {
		g := &groups[i]
		if msg := errs["filters."+g.Type]; msg != "" {
			g.Error, g.Open = msg, true
		}
		for j := range g.Fields {
			if msg := errs["filters."+g.Type+"."+g.Fields[j].Path]; msg != "" {
				g.Fields[j].Error, g.Open = msg, true
			}
		}
	}
}

// filterLine is one type's saved filters, for the settings page.
type filterLine struct {
	Type       string
	Conditions []filterCondition
}

type filterCondition struct {
	Path   string
	Values []string
}

// filterLines lists the saved filters in the order of the types and of
// their fields.
func filterLines(f otw.Filters) []filterLine {
	var lines []filterLine
	for _, t := range event.Types() {
		line := filterLine{Type: t.Name}
		for _, field := range event.FilterableFields(t.Name) {
			if values := f[t.Name][field.Path]; len(values) > 0 {
				line.Conditions = append(line.Conditions, filterCondition{Path: field.Path, Values: values})
			}
		}
		if len(line.Conditions) > 0 {
			lines = append(lines, line)
		}
	}
	return lines
}
