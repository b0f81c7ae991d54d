// Plots drawn by gnuplot: the data and script are written next to the images, so a user can restyle a plot
// by editing its .gp file and running gnuplot on it.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace af::report {

/// One line of a line plot.
struct Series {
  std::string title;
  std::vector<std::pair<double, double>> points;  // (x, y)
};

/// Lines against a shared x axis (loss, learning rate... against step).
struct LinePlot {
  std::string name;  // file stem: <name>.svg, <name>.png, <name>.gp, <name>.dat
  std::string title, xlabel, ylabel;
  std::vector<Series> series;
  bool log_y = false;
};

/// Grouped bars: one cluster per category, one bar per group (SFT and DPO side by side).
struct BarPlot {
  std::string name, title, ylabel;
  std::vector<std::string> categories;
  std::vector<std::string> groups;
  std::vector<std::vector<double>> values;  // values[group][category]; NaN = no bar
  double y_max = 100;
};

/// What drawing one plot produced.
struct DrawnPlot {
  std::string name;
  std::vector<std::string> files;  // images written, in the order of `formats`
  std::string error;               // empty on success
};

/// Draws `plot` into `out_dir` in each of `formats` ("svg", "png"). Images are renamed into place only
/// when gnuplot succeeds, so a failed draw never leaves a half-written image.
DrawnPlot draw(const LinePlot& plot, const std::string& out_dir, const std::vector<std::string>& formats);
DrawnPlot draw(const BarPlot& plot, const std::string& out_dir, const std::vector<std::string>& formats);

/// Whether a LinePlot has any point to draw.
bool has_points(const LinePlot& plot);

}  // namespace af::report
