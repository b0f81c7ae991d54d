#include "report/gnuplot.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/files.h"
#include "core/subprocess.h"

namespace af::report {
namespace {

namespace fs = std::filesystem;

// A gnuplot double-quoted string.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\t') ? ' ' : c;
  }
  return out + "\"";
}

std::string number(double v) {
  if (!std::isfinite(v)) return "?";  // `set datafile missing "?"`
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string header(const std::string& title, const std::string& xlabel, const std::string& ylabel) {
  std::ostringstream gp;
  gp << "# Drawn by astforge report; edit and run `gnuplot <this file>` to restyle.\n"
     << "set datafile separator \"\\t\"\n"
     << "set datafile missing \"?\"\n"
     << "set title " << quoted(title) << " noenhanced\n"
     << "set xlabel " << quoted(xlabel) << " noenhanced\n"
     << "set ylabel " << quoted(ylabel) << " noenhanced\n"
     << "set key noenhanced\n"
     << "set grid\n";
  return gp.str();
}

// Runs `body` (the plot command) once per format into temporary images, then renames them into place.
DrawnPlot render(const std::string& name, const std::string& setup, const std::string& plot_command,
                 const std::string& data, const std::string& out_dir,
                 const std::vector<std::string>& formats) {
  DrawnPlot drawn;
  drawn.name = name;
  fs::path dir = fs::absolute(out_dir);
  fs::create_directories(dir);
  const fs::path dat = dir / (name + ".dat");
  const fs::path gp_path = dir / (name + ".gp");
  write_file_atomic(dat.string(), data, false);

  std::ostringstream gp;
  gp << setup;
  std::vector<std::pair<fs::path, fs::path>> outputs;  // (temporary, final)
  bool first = true;
  for (const std::string& format : formats) {
    fs::path final_path = dir / (name + "." + format);
    fs::path tmp = dir / (name + "." + format + ".tmp");
    if (format == "svg") {
      gp << "set terminal svg size 800,450 dynamic font \"sans,11\" background rgb \"white\"\n";
    } else {
      gp << "set terminal pngcairo size 800,450 font \"sans,10\" background rgb \"white\"\n";
    }
    gp << "set output " << quoted(tmp.string()) << "\n"
       << (first ? plot_command : "replot") << "\n"
       << "set output\n";
    first = false;
    outputs.emplace_back(tmp, final_path);
  }
  // The saved script draws to the final names, so running it by hand refreshes the images.
  std::string script = gp.str();
  for (const auto& [tmp, final_path] : outputs) {
    std::string from = quoted(tmp.string()), to = quoted(final_path.string());
    for (size_t at = script.find(from); at != std::string::npos; at = script.find(from, at + to.size()))
      script.replace(at, from.size(), to);
  }
  write_file_atomic(gp_path.string(), script, false);

  const fs::path run_path = dir / (name + ".gp.tmp");
  write_file_atomic(run_path.string(), gp.str(), false);
  CommandResult r = run_command({"gnuplot", run_path.string()});
  std::error_code ec;
  fs::remove(run_path, ec);
  if (!r.ok()) {
    for (const auto& [tmp, final_path] : outputs) fs::remove(tmp, ec);
    std::string why = r.error_output;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    drawn.error = "gnuplot failed on " + gp_path.string() + (why.empty() ? "" : ": " + why);
    return drawn;
  }
  for (const auto& [tmp, final_path] : outputs) {
    fs::rename(tmp, final_path);
    drawn.files.push_back(final_path.string());
  }
  return drawn;
}

}  // namespace

bool has_points(const LinePlot& plot) {
  for (const auto& s : plot.series)
    if (!s.points.empty()) return true;
  return false;
}

DrawnPlot draw(const LinePlot& plot, const std::string& out_dir, const std::vector<std::string>& formats) {
  std::ostringstream data, command;
  std::string setup = header(plot.title, plot.xlabel, plot.ylabel);
  if (plot.log_y) setup += "set logscale y\n";
  int index = 0;
  command << "plot ";
  for (const Series& s : plot.series) {
    if (s.points.empty()) continue;  // gnuplot rejects an empty data block
    if (index > 0) {
      data << "\n\n";
      command << ", ";
    }
    data << "# " << s.title << "\n";
    for (const auto& [x, y] : s.points) data << number(x) << "\t" << number(y) << "\n";
    command << quoted((std::filesystem::absolute(out_dir) / (plot.name + ".dat")).string()) << " index "
            << index << " using 1:2 with " << (s.points.size() <= 40 ? "linespoints pt 7 ps 0.6" : "lines")
            << " lw 2 title " << quoted(s.title);
    ++index;
  }
  return render(plot.name, setup, command.str(), data.str(), out_dir, formats);
}

DrawnPlot draw(const BarPlot& plot, const std::string& out_dir, const std::vector<std::string>& formats) {
  std::ostringstream data, command;
  std::string setup = header(plot.title, "", plot.ylabel);
  // The key goes under the plot: bars reach 100%, where a key inside would cover them. Each colour comes
  // before its name ("reverse Left"): in a row, "SFT [box] DPO [box]" reads as if a box named the next group.
  setup += "set key outside bottom center horizontal reverse Left\n";
  setup +=
      "set style data histograms\nset style histogram clustered gap 1\n"
      "set style fill solid 0.85 border -1\nset boxwidth 0.9\nset xtics noenhanced\n"
      "set yrange [0:" +
      number(plot.y_max) + "]\n";
  data << "# category";
  for (const auto& g : plot.groups) data << "\t" << g;
  data << "\n";
  for (size_t c = 0; c < plot.categories.size(); ++c) {
    std::string label = plot.categories[c];
    for (char& ch : label)
      if (ch == '\t' || ch == '\n') ch = ' ';
    data << label;
    for (size_t g = 0; g < plot.groups.size(); ++g)
      data << "\t" << number(c < plot.values[g].size() ? plot.values[g][c] : NAN);
    data << "\n";
  }
  const std::string dat = quoted((std::filesystem::absolute(out_dir) / (plot.name + ".dat")).string());
  command << "plot ";
  for (size_t g = 0; g < plot.groups.size(); ++g) {
    if (g > 0) command << ", ";
    command << (g == 0 ? dat : "\"\"") << " using " << (g + 2) << (g == 0 ? ":xtic(1)" : "") << " title "
            << quoted(plot.groups[g]);
  }
  return render(plot.name, setup, command.str(), data.str(), out_dir, formats);
}

}  // namespace af::report
