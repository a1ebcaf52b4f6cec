// CsvTable: a numeric CSV file as written by run_writer (a header line of column names,
// then rows of numbers; '#' lines are comments; an empty cell means "not computed" and
// reads as NaN). Used to read runs back (the report). Reading is strict: a ragged row or a
// cell that is not a number is an error naming the file, the line and the column.
// Immutable after reading; safe to share between threads.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace driftscope {

class CsvTable {
 public:
  static Result<CsvTable> parse(const std::string& text, const std::string& name);
  static Result<CsvTable> read(const std::string& path);

  const std::string& name() const { return m_name; }
  const std::vector<std::string>& header() const { return m_header; }
  std::size_t rows() const { return m_rows; }
  bool hasColumn(const std::string& column) const;
  // The column's values in file order (NaN for empty cells); the error names the file and
  // the missing column.
  Result<std::vector<double>> column(const std::string& column) const;

 private:
  std::string m_name;
  std::vector<std::string> m_header;
  std::vector<std::vector<double>> m_columns;  // column-major
  std::size_t m_rows = 0;
};

}  // namespace driftscope
