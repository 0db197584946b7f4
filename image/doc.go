// Package image turns images from outside into commits and commits back
// into images, with no network: OCI image layouts, docker save archives
// (import, export) and Dockerfile --change instructions applied to an
// image config (ApplyChanges). Moving images to and from registries is
// remote's; image never imports remote.
package image
