// Small progressive enhancements; every page works without this file.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("select[data-autosubmit]")) target.form.requestSubmit();
});
document.addEventListener("click", (event) => {
  const tab = event.target.closest(".tabs a");
  if (!tab) return;
  tab.parentElement.querySelectorAll("a").forEach((a) => a.classList.toggle("active", a === tab));
});
