package model

import (
	"encoding/json"
	"strconv"
)

// Float is a number that may be unknown: a rate across a counter reset, a
// percentage over an empty interval, a reading we were not allowed to take.
// Unknown values encode as JSON null and are drawn as "–", never as 0.
type Float struct {
	V  float64
	OK bool
}

// Known wraps a value that was measured.
func Known(v float64) Float { return Float{V: v, OK: true} }

// Unknown is the zero Float: no measurement.
var Unknown = Float{}

// Or returns the value, or def when it is unknown.
func (f Float) Or(def float64) float64 {
	if f.OK {
		return f.V
	}
	return def
}

func (f Float) MarshalJSON() ([]byte, error) {
	if !f.OK {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f.V, 'f', -1, 64), nil
}

func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float{}
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Known(v)
	return nil
}
