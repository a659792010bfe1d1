# The growth of gapwatch's costs with the number of rules, from bench/run's
# figures. Usage: gnuplot -e "data='growth.dat'; out='plot.svg'" growth.gp
set terminal svg size 900,620 dynamic font "sans,11" background "white"
set output out
set multiplot layout 2,2 title "gapwatch: cost against the number of rules (every rule every minute)"
set logscale x 10
set xlabel "rules"
set grid
set key off
set format x "%.0f"
set xtics (10, 30, 100, 300, 1000, 3000, 10000)
set xrange [70:14000]
set style data linespoints
set title "validate (median, ms)"
plot data using 1:2 lw 2 pt 7 lc rgb "#1f77b4"
set title "daemon peak RSS (VmHWM, MiB)"
plot data using 1:3 lw 2 pt 7 lc rgb "#d62728"
set title "one /metrics scrape (median, ms)"
plot data using 1:4 lw 2 pt 7 lc rgb "#2ca02c"
set title "daemon CPU (seconds per minute)"
plot data using 1:5 lw 2 pt 7 lc rgb "#9467bd"
unset multiplot
