package main

import "strconv"

// notFlag is a boolean flag that sets *p to the opposite of its value:
// git's --write-fetch-head beside --no-write-fetch-head, or --no-guess
// beside --guess, both setting one bool, so that the last given wins.
type notFlag struct{ p *bool }

func (f notFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err == nil {
		*f.p = !b
	}
	return err
}
func (f notFlag) String() string {
	if f.p == nil {
		return "true"
	}
	return strconv.FormatBool(!*f.p)
}
func (f notFlag) Type() string { return "bool" }
