#include "core/io/csv_table.h"

#include <gtest/gtest.h>

#include <cmath>

namespace driftscope {
namespace {

TEST(CsvTable, ReadsColumnsSkippingCommentsWithEmptyCellsAsNaN) {
  auto t = CsvTable::parse("# comment\na,b,c\n1,2.5,\n-3e-2,,7\r\n", "x.csv");
  ASSERT_TRUE(t) << t.message();
  EXPECT_EQ(t->rows(), 2u);
  EXPECT_EQ(t->header(), (std::vector<std::string>{"a", "b", "c"}));
  auto a = t->column("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(*a, (std::vector<double>{1.0, -0.03}));
  auto b = t->column("b");
  ASSERT_TRUE(b);
  EXPECT_EQ((*b)[0], 2.5);
  EXPECT_TRUE(std::isnan((*b)[1]));
  auto c = t->column("c");
  ASSERT_TRUE(c);
  EXPECT_TRUE(std::isnan((*c)[0]));
  EXPECT_EQ((*c)[1], 7.0);
}

TEST(CsvTable, ErrorsNameTheFileLineColumnAndValue) {
  auto ragged = CsvTable::parse("a,b\n1,2\n3\n", "runs/x.csv");
  ASSERT_FALSE(ragged);
  EXPECT_EQ(ragged.message(), "runs/x.csv: line 3: 1 cells, the header has 2");
  auto word = CsvTable::parse("a,b\n1,two\n", "runs/x.csv");
  ASSERT_FALSE(word);
  EXPECT_EQ(word.message(), "runs/x.csv: line 2, column b: \"two\" is not a number");
  auto trailing = CsvTable::parse("a\n1.5x\n", "y.csv");
  ASSERT_FALSE(trailing);
  EXPECT_NE(trailing.message().find("\"1.5x\""), std::string::npos);
  auto empty = CsvTable::parse("# only a comment\n", "z.csv");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.message(), "z.csv: empty file (no header line)");
  auto t = CsvTable::parse("a\n1\n", "w.csv");
  ASSERT_TRUE(t);
  auto missing = t->column("b");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.message(), "w.csv: no column \"b\"");
  auto unreadable = CsvTable::read("/nonexistent/metrics.csv");
  ASSERT_FALSE(unreadable);
  EXPECT_EQ(unreadable.message(), "/nonexistent/metrics.csv: cannot open");
}

}  // namespace
}  // namespace driftscope
