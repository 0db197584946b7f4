#!/bin/sh
# sh bench/chart.sh ROWS OUT.svg (not executable: bench.sh runs every
# executable bench/*.sh): draw the tab-separated rows "group tool value unit" that
# the bench scripts append to $BENCH_CHART as horizontal bars, one panel
# per group, each bar scaled to the slowest tool of its group (shorter is
# better). Plain awk, no dependencies.
set -eu
awk -F'\t' '
{ g[NR]=$1; t[NR]=$2; v[NR]=$3+0; u[NR]=$4; if (!($1 in seen)) { seen[$1]=1; order[++ng]=$1 }
  if (v[NR] > mx[$1]) mx[$1]=v[NR]; n=NR }
END {
	W=820; bar=440; x0=250; rowh=22; y=40
	for (i=1; i<=ng; i++) { h += 30; for (j=1; j<=n; j++) if (g[j]==order[i]) h += rowh }
	printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"13\">\n", W, h+50
	printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	printf "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">strata and its peers, medians of one bench run (shorter is better)</text>\n"
	for (i=1; i<=ng; i++) {
		grp=order[i]; y+=20
		printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>\n", y, grp; y+=10
		for (j=1; j<=n; j++) if (g[j]==grp) {
			w = (mx[grp] > 0) ? v[j]/mx[grp]*bar : 0
			col = (t[j]=="strata") ? "#1f77b4" : "#aaaaaa"
			printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", x0-8, y+15, t[j]
			printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", x0, y+3, w, rowh-6, col
			printf "<text x=\"%.1f\" y=\"%d\">%g %s</text>\n", x0+w+6, y+15, v[j], u[j]
			y+=rowh
		}
	}
	print "</svg>"
}' "$1" | sed 's/&/\&amp;/g' >"$2"
