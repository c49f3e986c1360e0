// Every figure of a cell output opens full size when it is clicked or tapped: a grid of images
// shrinks to the reading column, which is narrow on a phone. (The explorer's images are left alone.)
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".cell_output img").forEach(function (img) {
    if (img.closest("a") || img.closest(".matfill-explorer")) {
      return;
    }
    var link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.target = "_blank";
    link.rel = "noopener";
    link.className = "matfill-zoom";
    link.title = "Open the figure full size";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});
