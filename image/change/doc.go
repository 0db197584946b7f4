// Package change applies Dockerfile instructions to an image config, as
// docker commit --change does (Apply).
//
// A change is one instruction, "EXPOSE 80" or 'CMD ["nginx"]': ENV,
// LABEL, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, VOLUME or STOPSIGNAL,
// the instructions of docker's that an OCI config can hold. Changes
// apply in order, each on what the ones before made (the Env its $VAR
// expand from, as docker's: the Env before it, read by buildkit's shell
// lexer, in which quotes and backslashes keep a $ from expanding; the
// WORKDIR a relative one is under, the CMD an ENTRYPOINT keeps only if
// a change set it). Each is checked as strata build checks it; an error
// wraps ErrBad and names the change, and the
// config may then be half changed: callers apply changes to a copy.
//
// It is apart from image, which remote imports, because its checks are
// the runtime's (exec's port and signal readers), and apart from build,
// whose Dockerfile parser the front build of the CLI does not link (the
// shell lexer it shares with build is a small package of its own).
package change
