package main

import "strconv"

// Boolean flags that share a variable, so that the last given wins.

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

// lastWins is a boolean flag that clears another when set, so that of two
// flags choosing one thing the last given wins (git's branch -a and -r).
type lastWins struct{ set, clear *bool }

func (f lastWins) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	*f.set = b
	if b {
		*f.clear = false
	}
	return nil
}
func (f lastWins) String() string {
	if f.set == nil {
		return "false"
	}
	return strconv.FormatBool(*f.set)
}
func (f lastWins) Type() string     { return "bool" }
func (f lastWins) IsBoolFlag() bool { return true }
