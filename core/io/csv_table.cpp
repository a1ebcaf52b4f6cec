#include "core/io/csv_table.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace driftscope {
namespace {

std::vector<std::string> splitCells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (char ch : line) {
    if (ch == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (ch != '\r') {
      cell.push_back(ch);
    }
  }
  cells.push_back(cell);
  return cells;
}

bool parseNumber(const std::string& cell, double& value) {
  if (cell.empty()) {
    value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const char* begin = cell.c_str();
  char* end = nullptr;
  errno = 0;
  value = std::strtod(begin, &end);
  return end == begin + cell.size() && errno != ERANGE;
}

}  // namespace

Result<CsvTable> CsvTable::parse(const std::string& text, const std::string& name) {
  CsvTable t;
  t.m_name = name;
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r" || line[0] == '#') continue;
    std::vector<std::string> cells = splitCells(line);
    if (t.m_header.empty()) {
      for (const std::string& c : cells) {
        if (c.empty()) {
          return Status::error(name + ": line " + std::to_string(lineNo) +
                               ": empty column name in the header");
        }
      }
      t.m_header = std::move(cells);
      t.m_columns.resize(t.m_header.size());
      continue;
    }
    if (cells.size() != t.m_header.size()) {
      return Status::error(name + ": line " + std::to_string(lineNo) + ": " +
                           std::to_string(cells.size()) + " cells, the header has " +
                           std::to_string(t.m_header.size()));
    }
    for (std::size_t c = 0; c < cells.size(); ++c) {
      double v = 0.0;
      if (!parseNumber(cells[c], v)) {
        return Status::error(name + ": line " + std::to_string(lineNo) + ", column " +
                             t.m_header[c] + ": \"" + cells[c] + "\" is not a number");
      }
      t.m_columns[c].push_back(v);
    }
    ++t.m_rows;
  }
  if (t.m_header.empty()) return Status::error(name + ": empty file (no header line)");
  return t;
}

Result<CsvTable> CsvTable::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::error(path + ": read error");
  return parse(text.str(), path);
}

bool CsvTable::hasColumn(const std::string& column) const {
  for (const std::string& h : m_header) {
    if (h == column) return true;
  }
  return false;
}

Result<std::vector<double>> CsvTable::column(const std::string& column) const {
  for (std::size_t c = 0; c < m_header.size(); ++c) {
    if (m_header[c] == column) return m_columns[c];
  }
  return Status::error(m_name + ": no column \"" + column + "\"");
}

}  // namespace driftscope
