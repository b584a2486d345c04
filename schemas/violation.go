package schemas

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Reason classifies a violation; it is stable and meant for programs
// (rejection ledger filters, metrics), while Message is for people.
type Reason string

// Reasons a fact can be refused.
const (
	ReasonMalformed   Reason = "malformed"    // not JSON, not an object, or not a CloudEvent at all
	ReasonAttribute   Reason = "attribute"    // a CloudEvents attribute is missing or wrong
	ReasonUnknownType Reason = "unknown_type" // type or subject names no family of the catalog
	ReasonSubject     Reason = "subject"      // NATS subject malformed or inconsistent with the event
	ReasonCounty      Reason = "county"       // county token unknown or not the entity's county
	ReasonSource      Reason = "source"       // source is not a department of the registry
	ReasonNotAllowed  Reason = "not_allowed"  // the department may not publish this family / county
	ReasonSchema      Reason = "schema"       // data violates the family's JSON Schema
	ReasonIDNumber    Reason = "id_number"    // a raw ID-card number is present
	ReasonTooLarge    Reason = "too_large"    // the message exceeds the size limit
	ReasonConflict    Reason = "id_conflict"  // the id was already used for a different fact
)

// Violation is one reason a fact is invalid: where (a JSON pointer into the
// CloudEvent, e.g. /data/household_id, or a header such as ce-source) and why.
type Violation struct {
	Pointer string `json:"pointer"`
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
}

func (v Violation) String() string {
	if v.Pointer == "" {
		return fmt.Sprintf("%s: %s", v.Reason, v.Message)
	}
	return fmt.Sprintf("%s at %s: %s", v.Reason, v.Pointer, v.Message)
}

var printer = message.NewPrinter(language.English)

func asValidationError(err error, ve **jsonschema.ValidationError) bool {
	return errors.As(err, ve)
}

// flatten turns the schema validator's error tree into one violation per
// leaf, naming missing and unknown fields individually.
func flatten(e *jsonschema.ValidationError, out *[]Violation) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			flatten(c, out)
		}
		return
	}
	at := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, Violation{Pointer: at + "/" + escape(m), Reason: ReasonSchema, Message: "required field is missing"})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, Violation{Pointer: at + "/" + escape(p), Reason: ReasonSchema,
				Message: "unknown field: the schema does not define it (names and ID numbers of persons are never accepted)"})
		}
	case *kind.Reference, *kind.Group:
		// A reference or group without causes carries nothing to report.
	default:
		*out = append(*out, Violation{Pointer: at, Reason: ReasonSchema, Message: e.ErrorKind.LocalizedString(printer)})
	}
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}

func escape(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Pointer < vs[j].Pointer })
}

// WithPrefix returns the violations with prefix prepended to their pointers,
// e.g. "/data" for violations found inside a CloudEvent's data.
func WithPrefix(prefix string, vs []Violation) []Violation {
	for i := range vs {
		vs[i].Pointer = prefix + vs[i].Pointer
	}
	return vs
}
