package main

import "strconv"

// followFlag is log's --follow (on) or --no-follow: as git's, the last
// of them given wins (--follow --no-follow does not follow), and
// --no-follow turns log.follow off too.
type followFlag struct {
	o  *logOptions
	on bool
}

func (f followFlag) String() string { return "false" }

func (f followFlag) Type() string { return "bool" }

func (f followFlag) Set(v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	if f.on {
		f.o.follow = b
		f.o.noFollow = f.o.noFollow && !b
	} else {
		f.o.noFollow = b
		f.o.follow = f.o.follow && !b
	}
	return nil
}
