// Package pagewrite writes file content in pieces of at most Max bytes.
//
// The kernel sizes a new page-cache folio by the write that makes it
// (ext4 has large folios since Linux 6.16): one write of several MiB
// asks for folios of up to 2 MiB, which only the free lists' largest
// blocks hold. A guest whose virtio balloon reports free pages to its
// host (free page reporting, as on the Firecracker VM these figures come
// from) has handed exactly those blocks back, so each of their pages
// costs a host fault when first written, and the time to fill the page
// cache moves with how much was handed back. Writes of Max bytes take
// folios of at most 64 KiB, which the allocator finds among the smaller
// free blocks that are never reported.
//
// Measured on such a guest (docs/checkout.md, Benchmarks): a cold
// checkout's system time fell from 298 to 204 ms and an import's from
// 350 to 234 ms (medians of alternating runs), and held level where no
// memory was reported (174 and 178 ms).
package pagewrite
