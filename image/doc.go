// Package image turns images from outside into commits and commits back
// into images, with no network: OCI image layouts, docker save archives
// (import, export). Dockerfile --change instructions are image/change's.
// Moving images to and from registries is
// remote's; image never imports remote.
package image
