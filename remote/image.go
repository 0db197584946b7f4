package remote

// maxResponseSize caps any registry answer read whole other than a
// manifest (image.MaxManifestSize): tag lists, error bodies, tokens.
const maxResponseSize = 16 << 20
