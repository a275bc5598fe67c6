# gnuplot script for bench/run: datafile and outfile are set with -e.
# Columns of datafile: label direct haproxy strata haproxy_cpu strata_cpu
set terminal pngcairo size 1400,900 font "DejaVu Sans,10"
set output outfile
set multiplot layout 2,1 title "Strata vs direct MariaDB vs HAProxy (TCP) — sysbench, 1 data node"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 noenhanced
set key top right
set yrange [0:*]
set ylabel "queries / s (median)"
plot datafile using 2:xtic(1) title "direct MariaDB" lc rgb "#4c72b0", \
     '' using 3 title "HAProxy (L4)" lc rgb "#55a868", \
     '' using 4 title "Strata" lc rgb "#c44e52"
set ylabel "CPU us per query (proxy process)"
plot datafile using 5:xtic(1) title "HAProxy" lc rgb "#55a868", \
     '' using 6 title "Strata" lc rgb "#c44e52"
unset multiplot
