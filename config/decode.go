package config

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The YAML form of Config: a config file, or the flags that were set rendered as one
// document (so that an option can't mean two things). The document is read key by key
// rather than decoded onto the struct at once, so that every error names the key, its
// line and what the value should look like, in the operator's words: yaml's own
// messages name Go types ("field rat not found in type config.Config", "cannot
// unmarshal !!str into float64").

// OptionError is one bad entry of a YAML document.
type OptionError struct {
	File string // the config file, when the document is one
	Line int    // 1-based; 0 when unknown
	Key  string // the option as written; "" for an error about the whole document
	Msg  string
}

func (e *OptionError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// options maps each YAML key (the flag name) to its Config field, in declaration order.
var options, optionNames = func() (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		m[name] = i
		names = append(names, name)
	}
	return m, names
}()

// Apply decodes a YAML document (the form of a --config file) onto c. Every bad entry is
// reported, each as an *OptionError with its line: an unknown key (with the closest known
// one), a value of the wrong kind, a key set twice, a secret. A value is quoted back only
// for a known, non-secret option whose value has the wrong form.
func (c *Config) Apply(doc []byte) error {
	return joinOptionErrors(c.decode(doc))
}

// ApplyFlags decodes the flags that were set, rendered as a YAML document by the command
// line, onto c; an error is a *FieldError naming the flag (--report-max-size: …).
func (c *Config) ApplyFlags(doc []byte) error {
	var errs []error
	for _, e := range c.decode(doc) {
		if e.Key == "" {
			errs = append(errs, e)
			continue
		}
		msg := strings.TrimPrefix(e.Msg, e.Key+": ")
		errs = append(errs, &FieldError{Field: e.Key, Msg: msg})
	}
	return errors.Join(errs...)
}

// LoadFile applies a YAML config file; its errors name the file and the line.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return bad("config", "cannot read: %v", err)
	}
	errs := c.decode(b)
	for _, e := range errs {
		e.File = path
	}
	return joinOptionErrors(errs)
}

func joinOptionErrors(errs []*OptionError) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// yamlQuoted is how yaml quotes a value in a syntax error.
var (
	yamlQuoted = regexp.MustCompile("`[^`]*`")
	yamlLine   = regexp.MustCompile(`^line (\d+): `)
)

func (c *Config) decode(doc []byte) []*OptionError {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		// A secret file given as --config by mistake must not have its start printed.
		msg := yamlQuoted.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "`…`")
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
		}
		return []*OptionError{{Line: line, Msg: "not valid YAML: " + msg}}
	}
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil // comments only
		}
		root = *root.Content[0]
	}
	switch {
	case root.Kind == 0 || (root.Kind == yaml.ScalarNode && root.Tag == "!!null"):
		return nil // nothing, or an explicit null
	case root.Kind != yaml.MappingNode:
		// Never quote it: this is what a secret file given as --config looks like.
		return []*OptionError{{Line: root.Line, Msg: "want option: value lines (rate: 5), got " + kindName(&root) +
			"; is this a cognito-resend config file?"}}
	}
	var errs []*OptionError
	seen := map[string]int{}
	v := reflect.ValueOf(c).Elem()
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, val := root.Content[i], root.Content[i+1]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			errs = append(errs, &OptionError{Line: k.Line, Msg: "an option's name must be a plain word such as rate"})
			continue
		}
		if why := SecretRefusal(key); why != "" {
			errs = append(errs, &OptionError{Line: k.Line, Key: key, Msg: key + ": " + why})
			continue
		}
		field, known := options[key]
		if !known {
			msg := fmt.Sprintf("unknown option %q", key)
			if s := Closest(key, optionNames); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			errs = append(errs, &OptionError{Line: k.Line, Key: key, Msg: msg})
			continue
		}
		if first, dup := seen[key]; dup {
			errs = append(errs, &OptionError{Line: k.Line, Key: key, Msg: fmt.Sprintf("%s is set twice (first on line %d)", key, first)})
			continue
		}
		seen[key] = k.Line
		if c.given == nil {
			c.given = map[string]bool{}
		}
		c.given[key] = true
		if isFraction(val, v.Field(field).Type()) {
			// yaml would truncate workers: 2.5 to 2 without a word.
			errs = append(errs, &OptionError{Line: val.Line, Key: key, Msg: fmt.Sprintf("%s: want %s, got %s", key, want(v.Field(field).Type()), describeValue(val))})
			continue
		}
		if err := val.Decode(v.Field(field).Addr().Interface()); err != nil {
			errs = append(errs, valueError(key, val, v.Field(field).Type(), err))
		}
	}
	return errs
}

// isFraction says whether val is a number with a fractional part bound for an integer.
func isFraction(val *yaml.Node, t reflect.Type) bool {
	if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!float" || t == reflect.TypeFor[time.Duration]() {
		return false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		f, err := strconv.ParseFloat(val.Value, 64)
		return err != nil || f != math.Trunc(f)
	}
	return false
}

// valueError describes a value of the wrong form: what the option wants, and what it got.
func valueError(key string, val *yaml.Node, t reflect.Type, err error) *OptionError {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		// The type's own UnmarshalYAML (ByteSize) says what it wants.
		return &OptionError{Line: val.Line, Key: key, Msg: key + ": " + err.Error()}
	}
	line, got := val.Line, describeValue(val)
	if val.Kind == yaml.MappingNode && t.Kind() == reflect.Map {
		// metadata: the culprit is a nested value, not the mapping.
		for i := 0; i+1 < len(val.Content); i += 2 {
			if sub := val.Content[i+1]; sub.Kind != yaml.ScalarNode {
				line, got = sub.Line, describeValue(sub)+" under "+fmt.Sprintf("%q", val.Content[i].Value)
				break
			}
		}
	}
	return &OptionError{Line: line, Key: key, Msg: fmt.Sprintf("%s: want %s, got %s", key, want(t), got)}
}

// Want says, in words, what the value of option key looks like ("a number", "a
// duration such as 30s"); "" for free text and for a key that is no option.
func Want(key string) string {
	i, ok := options[key]
	if !ok {
		return ""
	}
	switch t := reflect.TypeFor[Config]().Field(i).Type; t.Kind() {
	case reflect.String, reflect.Map:
		return ""
	default:
		return want(t)
	}
}

func want(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "a duration such as 500ms, 30s, 5m or 1h30m"
	case reflect.TypeFor[*ByteSize]():
		return sizeWant
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.Map:
		return "KEY: VALUE pairs"
	case reflect.Slice:
		return "a list"
	}
	return "a single value"
}

func describeValue(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	const maxShown = 40
	s := n.Value
	if utf8.RuneCountInString(s) > maxShown {
		s = string([]rune(s)[:maxShown]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a single value"
}
