# gnuplot script for bench/run with BENCH_DATA_NODES > 1: datafile, outfile and nodes are set with -e.
# Columns of datafile: label xa_qps best_effort_qps xa_cpu best_effort_cpu (0: not run)
set terminal pngcairo size 1400,900 font "DejaVu Sans,10"
set output outfile
set multiplot layout 2,1 title sprintf("Strata over %d sharded data nodes: XA vs best-effort commits — sysbench", nodes)
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 noenhanced
set key top right
set yrange [0:*]
set ylabel "queries / s (median)"
plot datafile using 2:xtic(1) title "Strata, XA (default)" lc rgb "#c44e52", \
     '' using 3 title "Strata, best effort" lc rgb "#dd8452"
set ylabel "Strata CPU us per query"
plot datafile using 4:xtic(1) title "XA" lc rgb "#c44e52", \
     '' using 5 title "best effort" lc rgb "#dd8452"
unset multiplot
